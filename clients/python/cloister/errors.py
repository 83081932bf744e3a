"""What the client raises: one base class, and one sentence that says what to do."""

from __future__ import annotations

__all__ = ["CloisterError", "APIError", "Unreachable", "TaskStuck", "TaskWaitTimeout"]


class CloisterError(Exception):
    """Every error of this package."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIError(CloisterError):
    """The server refused the call: its HTTP status, error code and message (docs/api.md, Errors)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code

    def __str__(self) -> str:
        return f"{self.status} {self.code}: {self.message}"


class Unreachable(CloisterError):
    """No answer from the server: nothing listens there, a TLS mismatch, an untrusted
    certificate, or a timeout. The message says which and what to do."""


class TaskStuck(CloisterError):
    """``wait_for_task(…, user=…)``: the task waits for that user's own action (assign, approve,
    invoke), so waiting would never end."""


class TaskWaitTimeout(CloisterError):
    """``wait_for_task``: the timeout passed before the task ended."""
