"""What the examples share: the command line (--url, the admin's password) and the parties.

Each example creates its own users under a random suffix, so that it can run again on the same
server: a function owner and a data owner manager (registered by the admin, as the roles
require), and under the manager the data owners of the scenario.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from dataclasses import dataclass
from typing import Dict, List, Tuple

import cloister

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


@dataclass
class Party:
    """A data owner of a scenario: its id and its own client."""

    id: str
    client: cloister.Client


def arguments(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--url", default=os.environ.get("CLOISTER_URL", cloister.DEFAULT_URL), help="the server (default %(default)s)")
    parser.add_argument("--admin-password", default=os.environ.get("CLOISTER_ADMIN_PASSWORD"),
                        help="the admin's password (default: CLOISTER_ADMIN_PASSWORD)")
    parser.add_argument("--ca-file", help="a PEM certificate to trust (an HTTPS server's self-signed one)")
    options = parser.parse_args()
    if not options.admin_password:
        parser.error("give --admin-password (or set CLOISTER_ADMIN_PASSWORD)")
    return options


def parties(options: argparse.Namespace, names: List[str], attribute: str) -> Tuple[cloister.Client, Dict[str, Party]]:
    """A logged-in function owner and data owners ``names`` (ids ``<name>-<attribute>-<suffix>``)."""
    suffix = secrets.token_hex(3)
    password = "example-password-" + suffix
    server = cloister.Client(options.url, ca_file=options.ca_file)
    admin = server.session_for("admin", options.admin_password)
    function_owner_id = f"fo-{attribute}-{suffix}"
    admin.register_user(function_owner_id, password, "FunctionOwner")
    manager_id = f"manager-{attribute}-{suffix}"
    admin.register_user(manager_id, password, f"DataOwnerManager-{attribute}")
    manager = server.session_for(manager_id, password)
    owners: Dict[str, Party] = {}
    for name in names:
        user = f"{name}-{attribute}-{suffix}"
        manager.register_user(user, password, f"DataOwner-{attribute}")
        owners[name] = Party(user, server.session_for(user, password))
    return server.session_for(function_owner_id, password), owners


def expect(condition: bool, message: str) -> None:
    if not condition:
        print("FAILED: " + message, file=sys.stderr)
        sys.exit(1)


def finish(client: cloister.Client, task_id: str) -> cloister.Task:
    """Waits for the task; exits with its reason unless it Finished and its signed receipt
    verifies (docs/receipts.md)."""
    task = client.wait_for_task(task_id, timeout=600, on_change=lambda t: print(f"  {t['id']}: {t['state']}"))
    expect(task["state"] == "Finished", f"task {task_id} ended {task['state']}: {task.get('reason', '')}")
    receipt = client.verify_task_receipt(task_id)
    print(f"  {task_id}: receipt {receipt['sequence']} verified (signed by {receipt['signer']['kind']} {receipt['signer']['key_id'][:12]}…)")
    return task
