"""The Teaclave examples re-written with the client (clients/python/examples), each run as a
user runs it, against a real `cloister serve`."""

from __future__ import annotations

import os
import subprocess
import sys
import unittest
from . import harness

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


class Examples(unittest.TestCase):
    def run_example(self, name: str) -> str:
        # A server of its own for each: each example logs every one of its users in, and a
        # server takes 30 logins a minute from one address.
        with harness.Server() as server:
            answer = subprocess.run(
                [sys.executable, os.path.join(EXAMPLES, name), "--url", server.url, "--admin-password", server.admin_password],
                capture_output=True, text=True, timeout=900)
        self.assertEqual(answer.returncode, 0, f"{name}:\n{answer.stdout}\n{answer.stderr}")
        return answer.stdout

    def test_builtin_echo(self) -> None:
        self.assertIn("Hello, Cloister!", self.run_example("builtin_echo.py"))

    def test_builtin_ordered_set_intersect(self) -> None:
        self.assertIn("org1 reads its output: ['0', '1', '0', '1']", self.run_example("builtin_ordered_set_intersect.py"))

    def test_builtin_private_join_and_compute(self) -> None:
        self.assertIn("each bank reads 'alice, 111; carol, 333'", self.run_example("builtin_private_join_and_compute.py"))

    def test_python_logistic_regression(self) -> None:
        self.assertIn("Finished", self.run_example("python_logistic_regression.py"))

    def test_wasm_psi(self) -> None:
        self.assertIn("org1 ['0', '1', '0', '1'], org2 ['1', '1', '0']", self.run_example("wasm_psi.py"))

    def test_deadloop_cancel(self) -> None:
        self.assertIn("Canceled (canceled by looper-loop-", self.run_example("deadloop_cancel.py"))


if __name__ == "__main__":
    unittest.main()
