"""Every call of the API through the client, against a real `cloister serve`: what it answers,
what it refuses (with the API's status, code and message), and what it leaves unchanged."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import time
import unittest
from typing import Optional, Tuple

import cloister

from . import harness

server: Optional[harness.Server] = None
parties: Optional["Parties"] = None


def setUpModule() -> None:
    # One server and one set of users for the module: the server takes 30 logins a minute from
    # one address, so the tests share their sessions rather than log in again each.
    global server, parties
    server = harness.Server().__enter__()
    parties = Parties()


def tearDownModule() -> None:
    if server is not None:
        server.__exit__(None, None, None)


def live() -> harness.Server:
    assert server is not None
    return server


def shared() -> "Parties":
    assert parties is not None
    return parties


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


class Parties:
    """An admin, a function owner and two data owners under one manager, each logged in."""

    password = "python-tests-password"

    def __init__(self) -> None:
        self.admin = live().admin()
        self.owner_id = unique("fo")
        self.admin.register_user(self.owner_id, self.password, "FunctionOwner")
        self.owner = live().client().session_for(self.owner_id, self.password)
        self.attribute = unique("bank")
        self.manager_id = unique("manager")
        self.admin.register_user(self.manager_id, self.password, f"DataOwnerManager-{self.attribute}")
        self.manager = live().client().session_for(self.manager_id, self.password)
        self.a_id, self.b_id = unique("a"), unique("b")
        for user in (self.a_id, self.b_id):
            self.manager.register_user(user, self.password, f"DataOwner-{self.attribute}")
        self.a = live().client().session_for(self.a_id, self.password)
        self.b = live().client().session_for(self.b_id, self.password)

    def intersect(self) -> cloister.Function:
        return self.owner.register_function(
            "builtin-ordered-set-intersect", "builtin", arguments=[{"key": "order", "default_value": "ascending"}],
            inputs=["input_data1", "input_data2"], outputs=["output_result1", "output_result2"])

    def two_party_task(self) -> Tuple[cloister.Task, cloister.Key, str]:
        """A task of both data owners, every file assigned (DataAssigned); A's key and output."""
        function = self.intersect()
        task = self.a.create_task(
            function["id"], "builtin", inputs_ownership={"input_data1": [self.a_id], "input_data2": [self.b_id]},
            outputs_ownership={"output_result1": [self.a_id], "output_result2": [self.b_id]})
        key_a, key_b = cloister.keygen("cloister-file-128"), cloister.keygen("cloister-file-256")
        in_a = self.a.upload_input(b"alice\ncarol\ndave\n", key_a)
        out_a = self.a.register_output("cloister-file-128", key_a)
        in_b = self.b.upload_input(b"bob\ncarol\n", key_b)
        out_b = self.b.register_output("cloister-file-256", key_b)
        self.a.assign_data(task["id"], inputs={"input_data1": in_a["id"]}, outputs={"output_result1": out_a["id"]})
        task = self.b.assign_data(task["id"], inputs={"input_data2": in_b["id"]}, outputs={"output_result2": out_b["id"]})
        return task, key_a, out_a["id"]


class System(unittest.TestCase):
    def test_health_and_openapi(self) -> None:
        client = live().client()
        self.assertEqual(client.health()["status"], "ok")
        document = client.openapi()
        self.assertIn("/v1/tasks/{id}/decline", document["paths"])

    def test_no_server_is_a_plain_sentence_within_seconds(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        start = time.monotonic()
        with self.assertRaises(cloister.Unreachable) as raised:
            cloister.Client(f"http://127.0.0.1:{port}").health()
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(
            str(raised.exception),
            f"no Cloister server at http://127.0.0.1:{port}: connection refused (is `cloister serve` running there? check the URL)")

    def test_strict_json_is_refused_with_the_field_named(self) -> None:
        client = live().client()
        duplicate = client.request("POST", "/v1/auth/login", raw_body=b'{"id": "admin", "password": "x", "id": "bob"}')
        self.assertEqual(duplicate.status_code, 400)
        self.assertIn("field 'id': given twice", duplicate.json()["error"]["message"])
        trailing = client.request("POST", "/v1/auth/login", raw_body=b'{"id": "admin", "password": "x",}')
        self.assertEqual(trailing.status_code, 400)
        self.assertIn("trailing comma", trailing.json()["error"]["message"])


class Accounts(unittest.TestCase):
    def test_users_from_registration_to_deletion(self) -> None:
        admin = live().admin()
        user = unique("carol")
        registered = admin.register_user(user, "a long passphrase", "DataOwner-x")
        self.assertEqual((registered["id"], registered["role"], registered.get("registered_by")), (user, "DataOwner-x", "admin"))
        self.assertIn(user, [u["id"] for u in admin.list_users()])
        self.assertEqual(admin.get_user(user)["role"], "DataOwner-x")
        self.assertEqual(admin.update_user(user, "DataOwner-y")["role"], "DataOwner-y")
        carol = live().client().session_for(user, "a long passphrase")
        carol.change_password(user, "a long passphrase", "another passphrase")
        with self.assertRaises(cloister.APIError) as ended:
            carol.list_tasks()
        self.assertEqual(ended.exception.status, 401)
        new_password = admin.reset_password(user)
        self.assertEqual(len(new_password), 24)
        again = live().client().session_for(user, new_password)
        again.logout()
        with self.assertRaises(cloister.APIError):
            again.with_token(again.token).list_tasks()
        admin.delete_user(user)
        with self.assertRaises(cloister.APIError) as gone:
            admin.get_user(user)
        self.assertEqual(gone.exception.status, 404)

    def test_refusals_carry_status_code_and_message(self) -> None:
        client = live().client()
        with self.assertRaises(cloister.APIError) as wrong:
            client.login("admin", "not the password")
        self.assertEqual((wrong.exception.status, wrong.exception.code), (401, "unauthorized"))
        self.assertEqual(wrong.exception.message, "wrong user id or password")
        admin = live().admin()
        with self.assertRaises(cloister.APIError) as short:
            admin.register_user(unique("dave"), "short", "DataOwner-x")
        self.assertEqual(short.exception.message, "field 'password': must be at least 8 bytes")


class Functions(unittest.TestCase):
    def test_register_read_update_disable_delete(self) -> None:
        parties = shared()
        script = b"def entrypoint(argv):\n    return 'hi'\n"
        function = parties.owner.register_function(
            "hello", "python", script, description="says hi", public=False, user_allowlist=[parties.a_id], usage_quota=3)
        self.assertEqual(function["payload_size"], len(script))
        self.assertFalse(function["public"])
        self.assertEqual(parties.owner.get_function(function["id"])["usage_quota"], 3)
        self.assertIn(function["id"], [f["id"] for f in parties.a.list_functions()])
        self.assertNotIn(function["id"], [f["id"] for f in parties.b.list_functions()])
        updated = parties.owner.update_function(function["id"], description="says hello", payload=b"def entrypoint(argv):\n    return 'hello'\n")
        self.assertEqual(updated["description"], "says hello")
        self.assertNotEqual(updated["payload_sha256"], function["payload_sha256"])
        with self.assertRaises(cloister.APIError) as unknown:
            parties.owner.update_function(function["id"], descr="typo")
        self.assertEqual(unknown.exception.status, 400)
        self.assertIn("field 'descr': unknown field", unknown.exception.message)
        with self.assertRaises(cloister.APIError) as networked:
            parties.owner.register_function(
                "fetcher", "python", script, network={"connect": [{"host": "203.0.113.7", "port": 443}]})
        self.assertEqual(networked.exception.status, 400)
        self.assertIn("field 'network': only wasm functions may use the network", networked.exception.message)
        usage = parties.owner.function_usage(function["id"])
        self.assertEqual((usage["invocations"], usage["remaining"]), (0, 3))
        self.assertTrue(parties.owner.disable_function(function["id"])["disabled"])
        parties.owner.delete_function(function["id"])
        with self.assertRaises(cloister.APIError) as gone:
            parties.owner.get_function(function["id"])
        self.assertEqual(gone.exception.status, 404)


class Data(unittest.TestCase):
    def test_inputs_outputs_and_their_checks(self) -> None:
        parties = shared()
        key = cloister.keygen("aes-gcm-256")
        path = os.path.join(live().files, unique("ledger") + ".enc")
        tag = cloister.encrypt_file("aes-gcm-256", key.key, __file__, path, iv=key.iv)
        registered = parties.a.register_input("file://" + path, "aes-gcm-256", key, tag=tag)
        self.assertEqual((registered["kind"], registered["tag"], registered["owners"]), ("input", tag.hex(), [parties.a_id]))
        self.assertEqual(parties.a.get_input(registered["id"])["id"], registered["id"])
        self.assertIn(registered["id"], [f["id"] for f in parties.a.list_inputs()])
        with self.assertRaises(cloister.APIError) as hidden:
            parties.b.get_input(registered["id"])
        self.assertEqual(hidden.exception.status, 404)
        output = parties.a.register_output("cloister-file-256", cloister.keygen("cloister-file-256"), owners=[parties.a_id, parties.b_id])
        self.assertEqual(sorted(output["owners"]), sorted([parties.a_id, parties.b_id]))
        self.assertIn(output["id"], [f["id"] for f in parties.b.list_outputs()])
        self.assertEqual(parties.b.get_output(output["id"])["kind"], "output")
        with self.assertRaises(cloister.APIError) as unwritten:
            parties.a.download_output(output["id"])
        self.assertEqual(unwritten.exception.status, 409)
        with self.assertRaises(cloister.APIError) as reuse:
            parties.a.register_output("aes-gcm-256", key)
        self.assertIn("field 'iv'", reuse.exception.message)


class Tasks(unittest.TestCase):
    def test_a_two_party_task_from_creation_to_the_decrypted_output(self) -> None:
        parties = shared()
        task, key_a, out_a = parties.two_party_task()
        self.assertEqual(task["state"], "DataAssigned")
        self.assertEqual(task["function_name"], "builtin-ordered-set-intersect")
        self.assertEqual(len(task["payload_sha256"]), 64)
        with self.assertRaises(cloister.TaskStuck) as stuck:
            parties.a.wait_for_task(task["id"], timeout=60)
        self.assertIn("waits for you to approve it", str(stuck.exception))
        parties.a.approve_task(task["id"])
        self.assertEqual(parties.b.approve_task(task["id"])["state"], "Approved")
        self.assertEqual(parties.a.invoke_task(task["id"])["state"], "Staged")
        seen = []
        done = parties.a.wait_for_task(task["id"], timeout=120, on_change=lambda t: seen.append(t["state"]))
        self.assertEqual(done["state"], "Finished", done.get("reason"))
        self.assertEqual(seen[-1], "Finished")
        self.assertEqual(parties.a.read_output(out_a, key_a), b"0\n1\n0\n")
        self.assertIn(task["id"], [t["id"] for t in parties.b.list_tasks()])
        self.assertEqual(parties.b.get_task(task["id"])["state"], "Finished")

    def test_a_long_poll_answers_at_a_change_or_its_end(self) -> None:
        parties = shared()
        task, _, _ = parties.two_party_task()
        start = time.monotonic()
        unchanged = parties.a.get_task(task["id"], wait=1, state="DataAssigned")
        self.assertEqual(unchanged["state"], "DataAssigned")
        self.assertGreaterEqual(time.monotonic() - start, 0.9)
        # Given a state it no longer has, the answer comes at once.
        self.assertEqual(parties.a.get_task(task["id"], wait=30, state="Created")["state"], "DataAssigned")
        with self.assertRaises(cloister.APIError) as bad:
            parties.a.get_task(task["id"], wait=31)
        self.assertEqual((bad.exception.status, bad.exception.code), (400, "bad_request"))
        with self.assertRaises(cloister.TaskWaitTimeout):
            parties.b.wait_for_task(task["id"], timeout=1, user="nobody")

    def test_decline_and_cancel(self) -> None:
        parties = shared()
        task, _, _ = parties.two_party_task()
        declined = parties.b.decline_task(task["id"])
        self.assertEqual((declined["state"], declined["reason"]), ("Canceled", f"declined by {parties.b_id}"))
        with self.assertRaises(cloister.APIError) as again:
            parties.a.approve_task(task["id"])
        self.assertEqual(again.exception.status, 409)
        other, _, _ = parties.two_party_task()
        with self.assertRaises(cloister.APIError) as forbidden:
            parties.b.cancel_task(other["id"])
        self.assertEqual(forbidden.exception.status, 403)
        self.assertEqual(parties.a.cancel_task(other["id"])["reason"], f"canceled by {parties.a_id}")

    def test_outputs_chain_into_inputs(self) -> None:
        parties = shared()
        echo = parties.owner.register_function("builtin-echo", "builtin", arguments=[{"key": "message"}])
        task = parties.a.create_task(echo["id"], "builtin", function_arguments={"message": 42})
        self.assertEqual(task["function_arguments"], {"message": "42"})
        parties.a.invoke_task(task["id"])
        self.assertEqual(parties.a.wait_for_task(task["id"], timeout=120)["result"]["return_value"], "42")
        first, key_a, out_a = parties.two_party_task()
        parties.a.approve_task(first["id"])
        parties.b.approve_task(first["id"])
        parties.a.invoke_task(first["id"])
        parties.a.wait_for_task(first["id"], timeout=120)
        chained = parties.a.register_input_from_output(out_a)
        self.assertEqual(chained["tag"], parties.a.get_output(out_a)["tag"])
        audit = parties.admin.audit(limit=5)
        self.assertTrue(all("action" in entry for entry in audit))


class Receipts(unittest.TestCase):
    def test_a_finished_task_and_a_declined_one_have_receipts_that_verify(self) -> None:
        parties = shared()
        task, key_a, out_a = parties.two_party_task()
        with self.assertRaises(cloister.APIError) as early:
            parties.a.task_receipt(task["id"])
        self.assertEqual(early.exception.status, 409)
        parties.a.approve_task(task["id"])
        parties.b.approve_task(task["id"])
        parties.a.invoke_task(task["id"])
        self.assertEqual(parties.a.wait_for_task(task["id"], timeout=120)["state"], "Finished")
        ciphertext = parties.a.download_output(out_a)
        receipt = parties.a.verify_task_receipt(task["id"], outputs=[("output_result1", ciphertext)])
        self.assertEqual((receipt["task_id"], receipt["state"]), (task["id"], "Finished"))
        workers = {key["key_id"]: key["public_key"] for key in parties.a.worker_keys()}
        self.assertIn(receipt["signer"]["key_id"], workers)
        self.assertEqual(parties.b.verify_task_receipt(task["id"], keys=workers)["task_id"], task["id"])
        head = parties.a.audit_head()
        self.assertGreaterEqual(head["receipt_sequence"], receipt["sequence"])
        self.assertIsNone(parties.a.attestation()["evidence"])

        # A receipt changed after signing, another output, the wrong key: each refused, naming the check.
        document = parties.a.task_receipt(task["id"])
        key = cloister.receipts.public_key(workers[receipt["signer"]["key_id"]])
        changed = document.replace(b'"Finished"', b'"Finishes"', 1)
        with self.assertRaises(cloister.ReceiptInvalid) as tampered:
            cloister.verify_receipt(changed, key)
        self.assertTrue(str(tampered.exception).startswith("signature: does not verify"), tampered.exception)
        with self.assertRaises(cloister.ReceiptInvalid) as other_output:
            cloister.verify_receipt(document, key, outputs=[("output_result1", ciphertext + b"x")])
        self.assertTrue(str(other_output.exception).startswith("output output_result1: the file hashes to"))
        platform = parties.a.attestation()["platform"]
        with self.assertRaises(cloister.ReceiptInvalid) as wrong_key:
            parties.a.verify_task_receipt(task["id"], keys={platform["key_id"]: platform["public_key"]})
        self.assertIn("whose key is not among those given", str(wrong_key.exception))

        # A declined task is signed by the platform's key, and follows the receipts before it.
        declined, _, _ = parties.two_party_task()
        parties.b.decline_task(declined["id"])
        last = parties.b.verify_task_receipt(declined["id"])
        self.assertEqual((last["state"], last["signer"]["key_id"]), ("Canceled", platform["key_id"]))
        self.assertGreater(last["sequence"], receipt["sequence"])


if __name__ == "__main__":
    unittest.main()
