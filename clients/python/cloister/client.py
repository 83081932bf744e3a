"""The client of the Cloister HTTP API (``/v1``, docs/api.md): one method per endpoint."""

from __future__ import annotations

import base64
import json
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union
from urllib.parse import quote, urlsplit

import requests

from .errors import APIError, TaskStuck, TaskWaitTimeout, Unreachable
from .files import Key, Scheme, decrypt, encrypt
from .models import (
    ArgumentSpec, AuditEntry, DataFile, FileSpec, Function, FunctionUsage, Health, LoginAnswer, Network, Task, User,
)
from . import receipts

__all__ = ["Client", "TaskProgress", "DEFAULT_URL", "FINAL_STATES"]

DEFAULT_URL = "http://127.0.0.1:8470"
FINAL_STATES = ("Finished", "Failed", "Canceled")

KeyLike = Union[bytes, str, Key]


def _hex(value: Optional[KeyLike]) -> Optional[str]:
    if value is None:
        return None
    if isinstance(value, Key):
        return value.key.hex()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return value


class TaskProgress:
    """What a task that has not ended waits for, seen by ``user`` (as the CLI's ``task wait``)."""

    def __init__(self, task: Task, user: str) -> None:
        waiting: List[str] = []
        mine: List[str] = []
        state = task["state"]
        if state == "Created":
            for kind, ownership, assigned in (
                ("input", task["inputs_ownership"], task["assigned_inputs"]),
                ("output", task["outputs_ownership"], task["assigned_outputs"]),
            ):
                for name in sorted(ownership):
                    if name in assigned:
                        continue
                    waiting.append(f"{' or '.join(ownership[name])} to assign {kind} {name}")
                    if user in ownership[name]:
                        mine.append(f"assign {kind} {name}")
        elif state == "DataAssigned":
            pending = [p for p in task["participants"] if p not in task["approved_by"]]
            waiting.append("approval by " + ", ".join(pending))
            if user in pending:
                mine.append("approve it")
        elif state == "Approved":
            waiting.append(f"{task['creator']} to invoke it")
            if task["creator"] == user:
                mine.append("invoke it")
        elif state == "Staged":
            waiting.append("a worker")
        self.waiting_for = waiting
        self.your_turn: Optional[str] = (
            f"task {task['id']} is {state} and waits for you to " + " and ".join(mine) if mine else None
        )

    def __str__(self) -> str:
        return "waiting for " + "; ".join(self.waiting_for) if self.waiting_for else ""


class Client:
    """A client of one Cloister server.

    >>> client = Client("http://127.0.0.1:8470")
    >>> client.login("bank-a", "bank a password")          # keeps the token
    >>> task = client.create_task(function_id, "builtin", inputs_ownership={…})

    Every call raises :class:`APIError` when the server refuses it and :class:`Unreachable`
    when no answer comes (connection refused, TLS mismatch, untrusted certificate, timeout),
    with a sentence that says what to do. ``ca_file`` trusts a PEM certificate (a server's
    self-signed one) besides the system's roots. :meth:`verify_task_receipt` checks a task's
    signed receipt (see :mod:`cloister.receipts`).
    """

    def __init__(
        self, url: str = DEFAULT_URL, token: Optional[str] = None, *, ca_file: Optional[str] = None,
        timeout: float = 120.0, connect_timeout: float = 3.0,
        session: Optional[requests.Session] = None,
    ) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.user: Optional[str] = None
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.session = session or requests.Session()
        self.session.trust_env = False
        if ca_file is not None:
            self.session.verify = ca_file

    def with_token(self, token: Optional[str], user: Optional[str] = None) -> "Client":
        """Another client of the same server and connection pool, with ``token``."""
        other = Client(
            self.url, token, timeout=self.timeout, connect_timeout=self.connect_timeout, session=self.session,
        )
        other.user = user
        return other

    # MARK: transport

    def request(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, *,
                raw_body: Optional[bytes] = None, timeout: Optional[float] = None) -> requests.Response:
        """Sends one request and returns the answer as it is (any status); :class:`Unreachable` when none comes."""
        headers: Dict[str, str] = {}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        data: Optional[bytes] = raw_body
        if body is not None:
            data = json.dumps({k: v for k, v in body.items() if v is not None}).encode()
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self.session.request(
                method, self.url + path, data=data, headers=headers, allow_redirects=False,
                timeout=(self.connect_timeout, timeout if timeout is not None else self.timeout),
            )
        except requests.exceptions.RequestException as error:
            raise self._unreachable(error) from None

    def _unreachable(self, error: requests.exceptions.RequestException) -> Unreachable:
        parts = urlsplit(self.url)
        server = f"{parts.scheme}://{parts.netloc}" if parts.netloc else self.url
        text = str(error)
        if isinstance(error, requests.exceptions.SSLError):
            if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
                return Unreachable(f"the certificate of {server} is not trusted: pass its certificate as ca_file=")
            if "WRONG_VERSION_NUMBER" in text or "wrong version number" in text:
                return Unreachable(f"{server} does not speak TLS: use an http:// URL")
            return Unreachable(f"the TLS handshake with {server} failed: {text}")
        if isinstance(error, requests.exceptions.ConnectTimeout):
            return Unreachable(f"no answer from {server} within {self.connect_timeout:g} s: check the URL and the network")
        if isinstance(error, requests.exceptions.ReadTimeout):
            return Unreachable(f"{server} did not answer in time")
        if isinstance(error, requests.exceptions.ConnectionError):
            if "Connection refused" in text or "Errno 111" in text:
                return Unreachable(f"no Cloister server at {server}: connection refused (is `cloister serve` running there? check the URL)")
            if "Name or service not known" in text or "Failed to resolve" in text or "nodename nor servname" in text:
                return Unreachable(f"cannot resolve the host of {server}: check the URL")
            if "RemoteDisconnected" in text or "Connection aborted" in text or "Connection reset" in text:
                return Unreachable(f"{server} closed the connection without answering: if it serves HTTPS, use an https:// URL")
            return Unreachable(f"cannot connect to {server}: {text}")
        if isinstance(error, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema)):
            return Unreachable(f"{self.url} is not a server URL: give http://HOST:PORT or https://HOST:PORT")
        return Unreachable(f"could not talk to {server}: {text}")

    @staticmethod
    def _check(response: requests.Response) -> requests.Response:
        if 200 <= response.status_code < 300:
            return response
        try:
            error = response.json()["error"]
            raise APIError(response.status_code, str(error["code"]), str(error["message"]))
        except (ValueError, KeyError, TypeError):
            raise APIError(response.status_code, f"http_{response.status_code}", response.text[:500]) from None

    def _json(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None, **options: Any) -> Any:
        return self._check(self.request(method, path, body, **options)).json()

    def _empty(self, method: str, path: str, body: Optional[Mapping[str, Any]] = None) -> None:
        self._check(self.request(method, path, body))

    @staticmethod
    def _id(value: str) -> str:
        return quote(value, safe="")

    # MARK: system

    def health(self) -> Health:
        result: Health = self._json("GET", "/v1/health")
        return result

    def openapi(self) -> Dict[str, Any]:
        """The server's OpenAPI 3.1 document."""
        result: Dict[str, Any] = self._json("GET", "/v1/openapi.json")
        return result

    def audit(self, user: Optional[str] = None, object: Optional[str] = None, limit: int = 100) -> List[AuditEntry]:
        """The audit log, newest first (admins)."""
        query = f"?limit={limit}"
        if user is not None:
            query += "&user=" + quote(user, safe="")
        if object is not None:
            query += "&object=" + quote(object, safe="")
        entries: List[AuditEntry] = self._json("GET", "/v1/audit" + query)["entries"]
        return entries

    # MARK: accounts

    def login(self, user: str, password: str) -> LoginAnswer:
        """Logs in and keeps the token for the calls that follow."""
        answer: LoginAnswer = self._json("POST", "/v1/auth/login", {"id": user, "password": password})
        self.token = answer["token"]
        self.user = answer["user"]["id"]
        return answer

    def session_for(self, user: str, password: str) -> "Client":
        """A new client of this server logged in as ``user`` (this one keeps its own token)."""
        other = self.with_token(None)
        other.login(user, password)
        return other

    def logout(self) -> None:
        """Ends this client's token on the server (the user's other tokens still work)."""
        self._empty("POST", "/v1/auth/logout")
        self.token = None

    def register_user(self, id: str, password: str, role: str) -> User:
        result: User = self._json("POST", "/v1/users", {"id": id, "password": password, "role": role})
        return result

    def list_users(self) -> List[User]:
        users: List[User] = self._json("GET", "/v1/users")["users"]
        return users

    def get_user(self, id: str) -> User:
        result: User = self._json("GET", "/v1/users/" + self._id(id))
        return result

    def update_user(self, id: str, role: str) -> User:
        result: User = self._json("PATCH", "/v1/users/" + self._id(id), {"role": role})
        return result

    def delete_user(self, id: str) -> None:
        self._empty("DELETE", "/v1/users/" + self._id(id))

    def change_password(self, id: str, old_password: str, new_password: str) -> None:
        """Changes one's own password; every token of the user stops working, this one included."""
        self._empty("POST", f"/v1/users/{self._id(id)}/password", {"old_password": old_password, "new_password": new_password})

    def reset_password(self, id: str) -> str:
        """A new random password for ``id`` (admins)."""
        return str(self._json("POST", f"/v1/users/{self._id(id)}/password/reset")["password"])

    # MARK: functions

    @staticmethod
    def _files(files: Optional[Sequence[Union[str, FileSpec]]]) -> Optional[List[FileSpec]]:
        if files is None:
            return None
        return [FileSpec(name=item) if isinstance(item, str) else item for item in files]

    def register_function(
        self, name: str, executor_type: str, payload: Optional[bytes] = None, *, description: Optional[str] = None,
        public: bool = True, arguments: Optional[Sequence[ArgumentSpec]] = None,
        inputs: Optional[Sequence[Union[str, FileSpec]]] = None, outputs: Optional[Sequence[Union[str, FileSpec]]] = None,
        user_allowlist: Optional[Sequence[str]] = None, usage_quota: Optional[int] = None, network: Optional[Network] = None,
    ) -> Function:
        """Registers a function: a builtin by its name (no payload), a WebAssembly module or a Python script.
        ``network`` declares what a wasm function may reach (``{"connect": [{"host", "port"}], "listen": [...]}``);
        every task of it shows that copy, and each participant's approval covers it."""
        body: Dict[str, Any] = {
            "name": name, "executor_type": executor_type, "description": description, "public": public,
            "payload": base64.b64encode(payload).decode("ascii") if payload is not None else None,
            "arguments": list(arguments) if arguments is not None else None,
            "inputs": self._files(inputs), "outputs": self._files(outputs),
            "user_allowlist": list(user_allowlist) if user_allowlist is not None else None, "usage_quota": usage_quota,
            "network": network,
        }
        result: Function = self._json("POST", "/v1/functions", body)
        return result

    def list_functions(self) -> List[Function]:
        functions: List[Function] = self._json("GET", "/v1/functions")["functions"]
        return functions

    def get_function(self, id: str) -> Function:
        result: Function = self._json("GET", "/v1/functions/" + self._id(id))
        return result

    def update_function(self, id: str, **fields: Any) -> Function:
        """Changes the given fields (``name=``, ``payload=`` bytes, ``arguments=``, …; as PATCH takes them)."""
        if isinstance(fields.get("payload"), (bytes, bytearray)):
            fields["payload"] = base64.b64encode(fields["payload"]).decode("ascii")
        for key in ("inputs", "outputs"):
            if key in fields:
                fields[key] = self._files(fields[key])
        result: Function = self._json("PATCH", "/v1/functions/" + self._id(id), fields)
        return result

    def delete_function(self, id: str) -> None:
        self._empty("DELETE", "/v1/functions/" + self._id(id))

    def disable_function(self, id: str) -> Function:
        result: Function = self._json("POST", f"/v1/functions/{self._id(id)}/disable")
        return result

    def function_usage(self, id: str) -> FunctionUsage:
        result: FunctionUsage = self._json("GET", f"/v1/functions/{self._id(id)}/usage")
        return result

    # MARK: data

    def register_input(self, url: str, scheme: Union[str, Scheme], key: Optional[KeyLike] = None,
                       iv: Optional[Union[bytes, str]] = None, tag: Optional[Union[bytes, str]] = None) -> DataFile:
        """Registers an input: ``url`` (file://, http(s)://, data:), its scheme, key (a :class:`Key`
        brings its IV), and optionally its integrity tag."""
        if isinstance(key, Key) and iv is None:
            iv = key.iv
        body = {
            "url": url, "scheme": Scheme.parse(scheme).value, "key": _hex(key) or "",
            "iv": _hex(iv), "tag": _hex(tag),
        }
        result: DataFile = self._json("POST", "/v1/inputs", body)
        return result

    def register_output(self, scheme: Union[str, Scheme], key: KeyLike, iv: Optional[Union[bytes, str]] = None,
                        url: Optional[str] = None, owners: Optional[Sequence[str]] = None) -> DataFile:
        """Registers an output (kept by the platform unless ``url`` is a file:// URL under a data root)."""
        if isinstance(key, Key) and iv is None:
            iv = key.iv
        body = {
            "url": url, "scheme": Scheme.parse(scheme).value, "key": _hex(key), "iv": _hex(iv),
            "owners": list(owners) if owners is not None else None,
        }
        result: DataFile = self._json("POST", "/v1/outputs", body)
        return result

    def register_input_from_output(self, output_id: str) -> DataFile:
        """A new input over a written output: same location, key, owners and tag."""
        result: DataFile = self._json("POST", "/v1/inputs/from-output", {"output_id": output_id})
        return result

    def list_inputs(self) -> List[DataFile]:
        files: List[DataFile] = self._json("GET", "/v1/inputs")["files"]
        return files

    def list_outputs(self) -> List[DataFile]:
        files: List[DataFile] = self._json("GET", "/v1/outputs")["files"]
        return files

    def get_input(self, id: str) -> DataFile:
        result: DataFile = self._json("GET", "/v1/inputs/" + self._id(id))
        return result

    def get_output(self, id: str) -> DataFile:
        result: DataFile = self._json("GET", "/v1/outputs/" + self._id(id))
        return result

    def download_output(self, id: str) -> bytes:
        """The stored, still encrypted bytes of a written output."""
        return self._check(self.request("GET", f"/v1/outputs/{self._id(id)}/content")).content

    def read_output(self, id: str, key: Key) -> bytes:
        """Downloads a written output and decrypts it with ``key``, checking it against the tag
        the platform recorded."""
        data = self.download_output(id)
        recorded = self.get_output(id).get("tag")
        return decrypt(key.scheme, key.key, data, iv=key.iv, tag=bytes.fromhex(recorded) if recorded else None)

    # MARK: tasks

    def create_task(
        self, function_id: str, executor: str, *, function_arguments: Optional[Mapping[str, Union[str, int, float, bool]]] = None,
        inputs_ownership: Optional[Mapping[str, Sequence[str]]] = None,
        outputs_ownership: Optional[Mapping[str, Sequence[str]]] = None,
    ) -> Task:
        body = {
            "function_id": function_id, "executor": executor,
            "function_arguments": dict(function_arguments) if function_arguments is not None else None,
            "inputs_ownership": {k: list(v) for k, v in inputs_ownership.items()} if inputs_ownership is not None else None,
            "outputs_ownership": {k: list(v) for k, v in outputs_ownership.items()} if outputs_ownership is not None else None,
        }
        result: Task = self._json("POST", "/v1/tasks", body)
        return result

    def list_tasks(self) -> List[Task]:
        tasks: List[Task] = self._json("GET", "/v1/tasks")["tasks"]
        return tasks

    def get_task(self, id: str, wait: Optional[int] = None, state: Optional[str] = None) -> Task:
        """The task; with ``wait`` (whole seconds, at most 30) a long poll: the task once its state
        is none of ``state`` (a state, or several separated by commas: ``"Staged,Running"`` waits
        through a whole run; by default the state it has when the server gets the call) or is
        final, or after ``wait`` seconds."""
        query = "" if wait is None else f"?wait={wait}" + (f"&state={state}" if state else "")
        result: Task = self._json("GET", f"/v1/tasks/{self._id(id)}{query}", timeout=(wait or 0) + self.timeout)
        return result

    def assign_data(self, id: str, inputs: Optional[Mapping[str, str]] = None, outputs: Optional[Mapping[str, str]] = None) -> Task:
        body = {"inputs": dict(inputs) if inputs else None, "outputs": dict(outputs) if outputs else None}
        result: Task = self._json("POST", f"/v1/tasks/{self._id(id)}/data", body)
        return result

    def approve_task(self, id: str) -> Task:
        result: Task = self._json("POST", f"/v1/tasks/{self._id(id)}/approve")
        return result

    def decline_task(self, id: str) -> Task:
        """Says no to a task before it is invoked: it is Canceled (``declined by <user>``)."""
        result: Task = self._json("POST", f"/v1/tasks/{self._id(id)}/decline")
        return result

    def invoke_task(self, id: str) -> Task:
        result: Task = self._json("POST", f"/v1/tasks/{self._id(id)}/invoke")
        return result

    def cancel_task(self, id: str) -> Task:
        result: Task = self._json("POST", f"/v1/tasks/{self._id(id)}/cancel")
        return result

    def wait_for_task(self, id: str, timeout: float = 600.0, *, user: Optional[str] = None,
                      on_change: Optional[Callable[[Task], None]] = None) -> Task:
        """Waits until the task is Finished, Failed or Canceled and returns it.

        ``on_change`` sees the task each time its state changes. With ``user`` (default: the
        user this client logged in as), :class:`TaskStuck` is raised at once when the task waits
        for that user's own action; :class:`TaskWaitTimeout` when ``timeout`` passes first.
        """
        who = user if user is not None else self.user
        deadline = time.monotonic() + timeout
        task = self.get_task(id)
        if on_change:
            on_change(task)
        while True:
            if task["state"] in FINAL_STATES:
                return task
            if who is not None:
                yours = TaskProgress(task, who).your_turn
                if yours:
                    raise TaskStuck(yours)
            left = deadline - time.monotonic()
            if left <= 0:
                progress = str(TaskProgress(task, who or ""))
                raise TaskWaitTimeout(f"task {id} is still {task['state']} after {timeout:g} s" + (f" ({progress})" if progress else ""))
            following = self.get_task(id, wait=max(1, min(30, int(left) + 1)), state=task["state"])
            if following["state"] != task["state"] and on_change:
                on_change(following)
            task = following

    # MARK: receipts

    def task_receipt(self, id: str) -> bytes:
        """The signed receipt of a task that ended, byte for byte as issued (docs/receipts.md)."""
        return self._check(self.request("GET", f"/v1/tasks/{self._id(id)}/receipt")).content

    def audit_head(self) -> Dict[str, Any]:
        """The newest audit entry's and receipt's sequence numbers and hashes."""
        result: Dict[str, Any] = self._json("GET", "/v1/audit/head")
        return result

    def worker_keys(self) -> List[Dict[str, Any]]:
        """Every worker identity key that signs receipts (``key_id``, ``public_key``, …)."""
        result: List[Dict[str, Any]] = self._json("GET", "/v1/workers")["workers"]
        return result

    def attestation(self) -> Dict[str, Any]:
        """The platform's key, its workers' keys and (null in this version) hardware evidence."""
        result: Dict[str, Any] = self._json("GET", "/v1/attestation")
        return result

    def verify_task_receipt(self, id: str, *, keys: Optional[Mapping[str, str]] = None, previous: Optional[bytes] = None,
                            outputs: Sequence[Tuple[str, bytes]] = ()) -> Dict[str, Any]:
        """Fetches task ``id``'s receipt and verifies it (:func:`cloister.receipts.verify`): its
        signature by the key its ``signer.key_id`` names, its link to ``previous`` (a receipt's
        bytes) and the hash of each ``(output name, ciphertext)``. ``keys`` maps key ids to
        public keys (hex) you hold; without it the keys come from ``GET /v1/attestation``, which
        proves only that the receipt is the server's own: pin the keys for more. Returns the
        receipt; raises :class:`cloister.receipts.ReceiptInvalid` naming the check that failed."""
        document = self.task_receipt(id)
        key_id = receipts.signer_key_id(document)
        if keys is None:
            attested = self.attestation()
            keys = {entry["key_id"]: entry["public_key"] for entry in [attested["platform"]] + list(attested["workers"])}
        if key_id not in keys:
            raise receipts.ReceiptInvalid(f"signature: the receipt names signer {key_id}, whose key is not among those given")
        receipt, _ = receipts.verify(document, receipts.public_key(keys[key_id]), previous, outputs)
        return receipt

    # MARK: conveniences

    def upload_input(self, plaintext: bytes, key: Key) -> DataFile:
        """Encrypts ``plaintext`` on this machine and registers it as an input carried in a
        ``data:`` URL (at most 16 MiB of URL), with its integrity tag."""
        sealed = encrypt(key.scheme, key.key, plaintext, iv=key.iv)
        return self.register_input(sealed.data_url(), key.scheme, key, tag=sealed.tag)
