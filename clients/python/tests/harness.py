"""A real `cloister serve` for the tests: a free loopback port, a temporary data folder, cheap
password hashes; stopped (and the folder removed) when the tests of a module end.

The binary is CLOISTER_BIN (scripts/python-client.sh sets it to the one `swift build` made).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from typing import List, Optional

import cloister

REPOSITORY = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))


def binary() -> str:
    path = os.environ.get("CLOISTER_BIN")
    if not path:
        raise RuntimeError("set CLOISTER_BIN to a built `cloister` (scripts/python-client.sh does)")
    return path


class Server:
    """``with Server() as server:`` — ``server.url``, ``server.admin_password``, ``server.files``
    (the data root file:// URLs may point into), ``server.admin()`` (a logged-in client)."""

    def __init__(self, arguments: Optional[List[str]] = None) -> None:
        self.arguments = arguments or []
        self.folder = tempfile.mkdtemp(prefix="cloister-python-")
        self.admin_password = "python-admin-" + secrets.token_hex(8)
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.url = ""

    @property
    def data(self) -> str:
        return os.path.join(self.folder, "data")

    @property
    def files(self) -> str:
        return os.path.join(self.data, "files")

    def __enter__(self) -> "Server":
        port_file = os.path.join(self.folder, "port")
        environment = dict(os.environ, CLOISTER_ADMIN_PASSWORD=self.admin_password)
        self.log = open(os.path.join(self.folder, "server.log"), "wb")
        self.process = subprocess.Popen(
            [binary(), "serve", "--data", self.data, "--host", "127.0.0.1", "--port", "0", "--port-file", port_file,
             "--workers", "2", "--password-cost", "4"] + self.arguments,
            stdout=self.log, stderr=subprocess.STDOUT, env=environment)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if os.path.exists(port_file) and open(port_file).read().strip():
                self.url = "http://127.0.0.1:" + open(port_file).read().strip()
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("cloister serve did not start")

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def client(self) -> cloister.Client:
        return cloister.Client(self.url)

    def admin(self) -> cloister.Client:
        return self.client().session_for("admin", self.admin_password)
