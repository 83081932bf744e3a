"""The protected file schemes of Cloister, as docs/file-format.md defines them.

Inputs are registered encrypted and outputs come back encrypted, each under a scheme:

============== ====== ========= =======================================================
scheme          key    IV        stored form
============== ====== ========= =======================================================
aes-gcm-128     16 B   12 B      ciphertext ‖ 16-byte GCM tag (AAD: 8 zero bytes)
aes-gcm-256     32 B   12 B      same
cloister-file-128 16 B none      32-byte header ‖ chunk records (HKDF chunk key, AES-GCM)
cloister-file-256 32 B none      same
raw             none   none      the plaintext (inputs only)
============== ====== ========= =======================================================

:func:`encrypt` / :func:`decrypt` work on bytes in memory; :func:`encrypt_file` /
:func:`decrypt_file` stream files in constant memory and, like ``cloister decrypt``, write the
output only once everything authenticated (a temporary file beside it, renamed into place).
Each returns the file's integrity tag: the GCM tag, or SHA-256 over the header and the chunk
tags; that is what the platform records and checks.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import os
import struct
import tempfile
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, Optional, Union

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = [
    "Scheme",
    "Key",
    "Sealed",
    "FileFormatError",
    "AuthenticationFailed",
    "keygen",
    "encrypt",
    "decrypt",
    "encrypt_file",
    "decrypt_file",
    "file_tag",
]

PathLike = Union[str, "os.PathLike[str]"]

MAGIC = b"CLOISTRF"
VERSION = 1
HEADER_SIZE = 32
NONCE_SIZE = 12
TAG_SIZE = 16
RECORD_OVERHEAD = NONCE_SIZE + TAG_SIZE
DEFAULT_CHUNK_SIZE = 65536
MAX_CHUNK_SIZE = 1 << 24
AES_GCM_AAD = bytes(8)
IV_SIZE = 12
_KDF_INFO = b"cloister-file/v1/chunk-key"
_IO_BLOCK = 1 << 20


class FileFormatError(ValueError):
    """A key, IV or file that does not fit its scheme (the message says which and why)."""


class AuthenticationFailed(FileFormatError):
    """The file does not authenticate under the key: a wrong key, or a modified file."""


class Scheme(str, enum.Enum):
    """A protected file scheme, by the name the platform and the CLI use."""

    AES_GCM_128 = "aes-gcm-128"
    AES_GCM_256 = "aes-gcm-256"
    CLOISTER_FILE_128 = "cloister-file-128"
    CLOISTER_FILE_256 = "cloister-file-256"
    RAW = "raw"

    @classmethod
    def parse(cls, name: Union[str, "Scheme"]) -> "Scheme":
        """The scheme named ``name``; an unknown name is an error listing the valid ones."""
        if isinstance(name, Scheme):
            return name
        try:
            return cls(name)
        except ValueError:
            valid = ", ".join(scheme.value for scheme in cls)
            raise FileFormatError(f"unknown scheme {name!r} (valid: {valid})") from None

    @property
    def key_size(self) -> int:
        """16 or 32 bytes; 0 for raw."""
        return {"aes-gcm-128": 16, "cloister-file-128": 16, "aes-gcm-256": 32, "cloister-file-256": 32}.get(self.value, 0)

    @property
    def takes_iv(self) -> bool:
        """Whether the scheme takes a caller-given 12-byte IV (the aes-gcm schemes)."""
        return self in (Scheme.AES_GCM_128, Scheme.AES_GCM_256)

    @property
    def is_chunked(self) -> bool:
        return self in (Scheme.CLOISTER_FILE_128, Scheme.CLOISTER_FILE_256)

    @property
    def tag_size(self) -> int:
        """The size of the scheme's integrity tag: 16 (aes-gcm), 32 (cloister-file), 0 (raw)."""
        return 32 if self.is_chunked else (TAG_SIZE if self.takes_iv else 0)

    @property
    def _header_id(self) -> int:
        return 1 if self is Scheme.CLOISTER_FILE_128 else 2

    def check(self, key: bytes, iv: Optional[bytes]) -> None:
        """Checks the key (and IV) sizes against the scheme before any byte is read or written."""
        if self is Scheme.RAW:
            if key:
                raise FileFormatError(f"bad key size for raw: expected 0 bytes, got {len(key)}")
            if iv:
                raise FileFormatError("raw takes no IV")
            return
        if len(key) != self.key_size:
            raise FileFormatError(f"bad key size for {self.value}: expected {self.key_size} bytes, got {len(key)}")
        if self.takes_iv:
            if iv is None:
                raise FileFormatError(f"{self.value} needs a 12-byte IV")
            if len(iv) != IV_SIZE:
                raise FileFormatError(f"{self.value} needs a 12-byte IV, got {len(iv)} bytes")
        elif iv:
            raise FileFormatError(f"{self.value} takes no IV")


@dataclass(frozen=True)
class Key:
    """A data key (and, for aes-gcm, its IV) of one scheme."""

    scheme: Scheme
    key: bytes
    iv: Optional[bytes] = None

    @property
    def key_hex(self) -> str:
        return self.key.hex()

    @property
    def iv_hex(self) -> Optional[str]:
        return None if self.iv is None else self.iv.hex()

    def keyfile_text(self) -> str:
        """The text ``cloister keygen`` prints (``key: HEX`` and ``iv: HEX``), for ``--key-file``."""
        text = f"key: {self.key.hex()}\n"
        if self.iv is not None:
            text += f"iv: {self.iv.hex()}\n"
        return text

    @classmethod
    def from_keyfile(cls, scheme: Union[str, Scheme], text: Union[str, bytes]) -> "Key":
        """Reads ``cloister keygen`` output, bare hex, or the raw key bytes (as ``--key-file`` does)."""
        parsed = Scheme.parse(scheme)
        raw = text.encode() if isinstance(text, str) else text
        try:
            lines = raw.decode("ascii").split()
        except UnicodeDecodeError:
            lines = []
        key: Optional[bytes] = None
        iv: Optional[bytes] = None
        if "key:" in lines:
            for label, value in zip(lines, lines[1:]):
                if label == "key:":
                    key = bytes.fromhex(value)
                elif label == "iv:":
                    iv = bytes.fromhex(value)
        elif len(lines) == 1 and _is_hex(lines[0]) and len(lines[0]) == 2 * parsed.key_size:
            key = bytes.fromhex(lines[0])
        elif len(raw) == parsed.key_size:
            key = raw
        if key is None:
            raise FileFormatError("the key file holds no key")
        parsed.check(key, iv if parsed.takes_iv else None)
        return cls(parsed, key, iv if parsed.takes_iv else None)


def _is_hex(text: str) -> bool:
    return len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text)


@dataclass(frozen=True)
class Sealed:
    """Encrypted bytes and their integrity tag."""

    data: bytes
    tag: bytes

    @property
    def tag_hex(self) -> str:
        return self.tag.hex()

    def data_url(self) -> str:
        """A ``data:`` URL of the encrypted bytes, which the platform takes as an input's URL."""
        return "data:application/octet-stream;base64," + base64.b64encode(self.data).decode("ascii")


def keygen(scheme: Union[str, Scheme]) -> Key:
    """A random key of ``scheme`` (and a random IV for aes-gcm). An aes-gcm key and IV encrypt one file."""
    parsed = Scheme.parse(scheme)
    if parsed is Scheme.RAW:
        raise FileFormatError("raw takes no key")
    return Key(parsed, os.urandom(parsed.key_size), os.urandom(IV_SIZE) if parsed.takes_iv else None)


# MARK: cloister-file


def _header(scheme: Scheme, chunk_size: int, file_nonce: bytes) -> bytes:
    return MAGIC + struct.pack(">HHI", VERSION, scheme._header_id, chunk_size) + file_nonce


def _parse_header(scheme: Scheme, header: bytes) -> int:
    if len(header) < HEADER_SIZE:
        raise FileFormatError("truncated: shorter than the 32-byte header")
    if header[:8] != MAGIC:
        raise FileFormatError("bad header: not a cloister-file (no CLOISTRF magic)")
    version, scheme_id, chunk_size = struct.unpack(">HHI", header[8:16])
    if version == 0:
        raise FileFormatError("bad header: version 0")
    if version > VERSION:
        raise FileFormatError(f"unsupported version {version}: written by a newer Cloister")
    if scheme_id not in (1, 2):
        raise FileFormatError(f"bad header: unknown scheme id {scheme_id}")
    if scheme_id != scheme._header_id:
        actual = Scheme.CLOISTER_FILE_128 if scheme_id == 1 else Scheme.CLOISTER_FILE_256
        raise FileFormatError(f"wrong scheme: the file is {actual.value}, not {scheme.value}")
    if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
        raise FileFormatError(f"bad header: chunk size {chunk_size}")
    return int(chunk_size)


def _chunk_key(scheme: Scheme, key: bytes, header: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=scheme.key_size, salt=header[16:32], info=_KDF_INFO + header).derive(key)
    return AESGCM(derived)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


class _ChunkWriter:
    """Seals plaintext chunk by chunk into ``sink``; ``finish`` returns the file tag."""

    def __init__(self, scheme: Scheme, key: bytes, sink: BinaryIO, chunk_size: int) -> None:
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise FileFormatError(f"chunk size must be 1 to {MAX_CHUNK_SIZE}, got {chunk_size}")
        self.header = _header(scheme, chunk_size, os.urandom(16))
        self.cipher = _chunk_key(scheme, key, self.header)
        self.sink = sink
        self.chunk_size = chunk_size
        self.pending = bytearray()
        self.index = 0
        self.digest = hashlib.sha256(self.header)
        sink.write(self.header)

    def _seal(self, chunk: bytes, last: bool) -> None:
        nonce = os.urandom(NONCE_SIZE)
        sealed = self.cipher.encrypt(nonce, chunk, _aad(self.header, self.index, last))
        self.sink.write(nonce + sealed)
        self.digest.update(sealed[-TAG_SIZE:])
        self.index += 1

    def write(self, data: bytes) -> None:
        self.pending += data
        # Keep at least one byte back: the last chunk is sealed as last by finish().
        while len(self.pending) > self.chunk_size:
            self._seal(bytes(self.pending[: self.chunk_size]), last=False)
            del self.pending[: self.chunk_size]

    def finish(self) -> bytes:
        self._seal(bytes(self.pending), last=True)
        self.pending.clear()
        return self.digest.digest()


def _chunk_records(scheme: Scheme, source: BinaryIO, size: int) -> Iterator[tuple[bytes, int, bool, bytes]]:
    """The header, then each record of a cloister-file: (header, index, is_last, record)."""
    header = source.read(HEADER_SIZE)
    chunk_size = _parse_header(scheme, header)
    body = size - HEADER_SIZE
    if body < RECORD_OVERHEAD:
        raise FileFormatError("truncated: no chunk after the header")
    record_size = chunk_size + RECORD_OVERHEAD
    count = -(-body // record_size)
    last_size = body - (count - 1) * record_size
    if last_size < RECORD_OVERHEAD:
        raise FileFormatError("truncated: the last chunk is shorter than its nonce and tag")
    for index in range(count):
        last = index == count - 1
        record = source.read(last_size if last else record_size)
        if len(record) != (last_size if last else record_size):
            raise FileFormatError("truncated: the file ended inside a chunk")
        yield header, index, last, record


def _open_chunks(scheme: Scheme, key: bytes, source: BinaryIO, size: int) -> Iterator[bytes]:
    """The plaintext of each chunk, authenticated; the file tag is checked by the caller."""
    cipher: Optional[AESGCM] = None
    for header, index, last, record in _chunk_records(scheme, source, size):
        if cipher is None:
            cipher = _chunk_key(scheme, key, header)
        try:
            yield cipher.decrypt(record[:NONCE_SIZE], record[NONCE_SIZE:], _aad(header, index, last))
        except InvalidTag:
            raise AuthenticationFailed(f"authentication failed at chunk {index}: a wrong key, or the file was modified") from None


def _tag_of_chunked(scheme: Scheme, source: BinaryIO, size: int) -> bytes:
    digest = hashlib.sha256()
    for header, index, _, record in _chunk_records(scheme, source, size):
        if index == 0:
            digest.update(header)
        digest.update(record[-TAG_SIZE:])
    return digest.digest()


# MARK: bytes


def encrypt(scheme: Union[str, Scheme], key: bytes, plaintext: bytes, iv: Optional[bytes] = None, chunk_size: int = DEFAULT_CHUNK_SIZE) -> Sealed:
    """Encrypts ``plaintext`` under ``scheme``; the stored bytes and their integrity tag."""
    parsed = Scheme.parse(scheme)
    parsed.check(key, iv)
    if parsed is Scheme.RAW:
        raise FileFormatError("raw is plaintext: nothing to encrypt (the platform takes raw inputs as they are)")
    if parsed.takes_iv:
        assert iv is not None
        sealed = AESGCM(key).encrypt(iv, plaintext, AES_GCM_AAD)
        return Sealed(sealed, sealed[-TAG_SIZE:])
    sink = io.BytesIO()
    writer = _ChunkWriter(parsed, key, sink, chunk_size)
    writer.write(plaintext)
    tag = writer.finish()
    return Sealed(sink.getvalue(), tag)


def decrypt(scheme: Union[str, Scheme], key: bytes, data: bytes, iv: Optional[bytes] = None, tag: Optional[bytes] = None) -> bytes:
    """The plaintext of ``data``; :class:`AuthenticationFailed` unless all of it authenticates
    under the key (and, given ``tag``, its integrity tag is that one)."""
    parsed = Scheme.parse(scheme)
    parsed.check(key, iv)
    if parsed is Scheme.RAW:
        return data
    if parsed.takes_iv:
        assert iv is not None
        if len(data) < TAG_SIZE:
            raise FileFormatError("truncated: shorter than the 16-byte GCM tag")
        if tag is not None and data[-TAG_SIZE:] != tag:
            raise AuthenticationFailed("the integrity tag is not the expected one")
        try:
            return AESGCM(key).decrypt(iv, data, AES_GCM_AAD)
        except InvalidTag:
            raise AuthenticationFailed("authentication failed: a wrong key or IV, or the file was modified") from None
    plaintext = b"".join(_open_chunks(parsed, key, io.BytesIO(data), len(data)))
    if tag is not None and _tag_of_chunked(parsed, io.BytesIO(data), len(data)) != tag:
        raise AuthenticationFailed("the integrity tag is not the expected one")
    return plaintext


def file_tag(scheme: Union[str, Scheme], data: bytes) -> bytes:
    """The integrity tag of stored bytes, computed without the key (the platform's ``tag``)."""
    parsed = Scheme.parse(scheme)
    if parsed.takes_iv:
        if len(data) < TAG_SIZE:
            raise FileFormatError("truncated: shorter than the 16-byte GCM tag")
        return data[-TAG_SIZE:]
    if parsed.is_chunked:
        return _tag_of_chunked(parsed, io.BytesIO(data), len(data))
    raise FileFormatError("a raw file has no tag")


# MARK: files


def _replace_atomically(destination: PathLike, write: Callable[[BinaryIO], bytes]) -> bytes:
    """Writes through a 0600 temporary file beside ``destination`` and renames it into place only
    when ``write`` returned; on any failure the temporary file is removed and nothing is left."""
    folder = os.path.dirname(os.path.abspath(os.fspath(destination))) or "."
    name = os.path.basename(os.fspath(destination))
    fd, temporary = tempfile.mkstemp(prefix=f".{name}.cloister-partial-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as sink:
            tag = write(sink)
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(temporary, destination)
        return tag
    except BaseException:
        try:
            os.unlink(temporary)
        except FileNotFoundError:
            pass
        raise


def encrypt_file(
    scheme: Union[str, Scheme], key: bytes, source: PathLike, destination: PathLike,
    iv: Optional[bytes] = None, chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> bytes:
    """Encrypts the file ``source`` into ``destination`` in constant memory; its integrity tag."""
    parsed = Scheme.parse(scheme)
    parsed.check(key, iv)
    if parsed is Scheme.RAW:
        raise FileFormatError("raw is plaintext: nothing to encrypt")

    def write(sink: BinaryIO) -> bytes:
        with open(source, "rb") as plain:
            if parsed.takes_iv:
                assert iv is not None
                encryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).encryptor()
                encryptor.authenticate_additional_data(AES_GCM_AAD)
                while block := plain.read(_IO_BLOCK):
                    sink.write(encryptor.update(block))
                sink.write(encryptor.finalize())
                sink.write(encryptor.tag)
                return bytes(encryptor.tag)
            writer = _ChunkWriter(parsed, key, sink, chunk_size)
            while block := plain.read(_IO_BLOCK):
                writer.write(block)
            return writer.finish()

    return _replace_atomically(destination, write)


def decrypt_file(
    scheme: Union[str, Scheme], key: bytes, source: PathLike, destination: PathLike,
    iv: Optional[bytes] = None, tag: Optional[bytes] = None,
) -> bytes:
    """Decrypts ``source`` into ``destination``, which appears only once the whole file
    authenticated (and matched ``tag`` when given); its integrity tag."""
    parsed = Scheme.parse(scheme)
    parsed.check(key, iv)
    size = os.path.getsize(source)

    def write(sink: BinaryIO) -> bytes:
        with open(source, "rb") as sealed:
            if parsed is Scheme.RAW:
                while block := sealed.read(_IO_BLOCK):
                    sink.write(block)
                return b""
            if parsed.takes_iv:
                assert iv is not None
                if size < TAG_SIZE:
                    raise FileFormatError("truncated: shorter than the 16-byte GCM tag")
                sealed.seek(size - TAG_SIZE)
                gcm_tag = sealed.read(TAG_SIZE)
                if tag is not None and gcm_tag != tag:
                    raise AuthenticationFailed("the integrity tag is not the expected one")
                sealed.seek(0)
                decryptor = Cipher(algorithms.AES(key), modes.GCM(iv)).decryptor()
                decryptor.authenticate_additional_data(AES_GCM_AAD)
                left = size - TAG_SIZE
                while left > 0:
                    block = sealed.read(min(_IO_BLOCK, left))
                    left -= len(block)
                    sink.write(decryptor.update(block))
                try:
                    sink.write(decryptor.finalize_with_tag(gcm_tag))
                except InvalidTag:
                    raise AuthenticationFailed("authentication failed: a wrong key or IV, or the file was modified") from None
                return gcm_tag
            for plaintext in _open_chunks(parsed, key, sealed, size):
                sink.write(plaintext)
            sealed.seek(0)
            computed = _tag_of_chunked(parsed, sealed, size)
            if tag is not None and computed != tag:
                raise AuthenticationFailed("the integrity tag is not the expected one")
            return computed

    return _replace_atomically(destination, write)
