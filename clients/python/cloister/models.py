"""The API's objects as typed dictionaries: exactly the JSON the server sends (snake_case keys,
dates as ISO 8601 strings). docs/api.md describes every field."""

from __future__ import annotations

from typing import Dict, List, TypedDict

__all__ = [
    "Health", "User", "LoginAnswer", "ArgumentSpec", "FileSpec", "Function", "FunctionUsage",
    "DataFile", "TaskResult", "Task", "AuditEntry",
]


class Health(TypedDict):
    status: str
    version: str


class _UserBase(TypedDict):
    id: str
    role: str
    created_at: str


class User(_UserBase, total=False):
    registered_by: str


class LoginAnswer(TypedDict):
    token: str
    expires_at: str
    user: User


class _ArgumentSpecBase(TypedDict):
    key: str


class ArgumentSpec(_ArgumentSpecBase, total=False):
    default_value: str
    allow_overwrite: bool


class _FileSpecBase(TypedDict):
    name: str


class FileSpec(_FileSpecBase, total=False):
    description: str
    optional: bool


class NetworkDestination(TypedDict):
    """A destination a function may connect to: a CIDR network, an address or a DNS name; port 0: every port."""
    host: str
    port: int


class NetworkListenAddress(TypedDict):
    """An address and port a function may listen at (port 0: any)."""
    address: str
    port: int


class Network(TypedDict, total=False):
    """A function's network use: what every participant of its tasks approves (wasm functions only)."""
    connect: List[NetworkDestination]
    listen: List[NetworkListenAddress]


class _FunctionBase(TypedDict):
    id: str
    name: str
    description: str
    executor_type: str
    payload_size: int
    payload_sha256: str
    public: bool
    arguments: List[ArgumentSpec]
    inputs: List[FileSpec]
    outputs: List[FileSpec]
    user_allowlist: List[str]
    owner: str
    disabled: bool
    created_at: str
    updated_at: str


class Function(_FunctionBase, total=False):
    usage_quota: int
    network: Network


class _FunctionUsageBase(TypedDict):
    function_id: str
    invocations: int
    tasks_by_state: Dict[str, int]


class FunctionUsage(_FunctionUsageBase, total=False):
    usage_quota: int
    remaining: int


class _DataFileBase(TypedDict):
    id: str
    kind: str
    scheme: str
    owners: List[str]
    created_at: str


class DataFile(_DataFileBase, total=False):
    url: str
    tag: str


class _TaskResultBase(TypedDict):
    return_value: str
    output_tags: Dict[str, str]
    log: str


class TaskResult(_TaskResultBase, total=False):
    engine: str


class _TaskBase(TypedDict):
    id: str
    function_id: str
    function_owner: str
    function_name: str
    payload_sha256: str
    creator: str
    executor: str
    function_arguments: Dict[str, str]
    inputs_ownership: Dict[str, List[str]]
    outputs_ownership: Dict[str, List[str]]
    participants: List[str]
    approved_by: List[str]
    assigned_inputs: Dict[str, str]
    assigned_outputs: Dict[str, str]
    state: str
    created_at: str
    updated_at: str


class Task(_TaskBase, total=False):
    result: TaskResult
    reason: str
    network: Network


class AuditEntry(TypedDict):
    id: int
    time: str
    user: str
    action: str
    object: str
    decision: str
    detail: str
