"""The Python client of Cloister, a confidential function-execution platform.

:class:`Client` makes every call of the HTTP API (docs/api.md); :mod:`cloister.files`
encrypts inputs and decrypts outputs in the platform's schemes (aes-gcm-128/256,
cloister-file-128/256; docs/file-format.md); :mod:`cloister.receipts` verifies
the signed receipt of a task (docs/receipts.md).
"""

from .client import DEFAULT_URL, FINAL_STATES, Client, TaskProgress
from .errors import APIError, CloisterError, TaskStuck, TaskWaitTimeout, Unreachable
from .files import (
    AuthenticationFailed, FileFormatError, Key, Scheme, Sealed, decrypt, decrypt_file, encrypt, encrypt_file, file_tag, keygen,
)
from .models import (
    ArgumentSpec, AuditEntry, DataFile, FileSpec, Function, FunctionUsage, Health, LoginAnswer, Network, NetworkDestination,
    NetworkListenAddress, Task, TaskResult, User,
)
from .receipts import ReceiptInvalid, verify as verify_receipt

__version__ = "0.7.0"

__all__ = [
    "Client", "TaskProgress", "DEFAULT_URL", "FINAL_STATES",
    "CloisterError", "APIError", "Unreachable", "TaskStuck", "TaskWaitTimeout",
    "Scheme", "Key", "Sealed", "FileFormatError", "AuthenticationFailed",
    "keygen", "encrypt", "decrypt", "encrypt_file", "decrypt_file", "file_tag",
    "ArgumentSpec", "AuditEntry", "DataFile", "FileSpec", "Function", "FunctionUsage", "Health", "LoginAnswer",
    "Network", "NetworkDestination", "NetworkListenAddress",
    "Task", "TaskResult", "User",
    "ReceiptInvalid", "verify_receipt",
]
