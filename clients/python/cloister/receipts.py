"""Task receipts: the verifier of docs/receipts.md, written from that page alone.

A task that ends gets a receipt signed by the worker that ran it (or, for a task canceled or
lost, by the platform's key); each receipt links to the one before it. :func:`verify` checks a
receipt's Ed25519 signature over its canonical JSON, optionally its link to the previous receipt
and the SHA-256 of output files against what it names. :meth:`cloister.Client.verify_task_receipt`
fetches a task's receipt and verifies it with a key you give or one the server lists.

This module shares no code with Cloister's server and imports nothing but Python's standard
library and ``cryptography``, so that it also runs as a script on its own (the platform's tests
run it that way against real receipts)::

    python3 receipts.py RECEIPT.json --key KEY [--previous PREVIOUS.json] [--output NAME=FILE]...

KEY is the signer's Ed25519 public key as 64 hex digits, or a file holding them. The script exits
0 and prints "verified: …" when every check passes; it exits 1 and prints "FAILED: <check>: <why>"
otherwise.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = ["ReceiptInvalid", "canonical", "parse", "public_key", "signer_key_id", "verify", "main"]


class ReceiptInvalid(Exception):
    """A receipt that does not verify; the message is ``<check>: <why>``."""


def canonical(value: Any) -> bytes:
    """The canonical JSON of ``value`` (docs/receipts.md, "Canonical JSON")."""
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, int):
        return str(value).encode("ascii")
    if isinstance(value, str):
        return canonical_string(value)
    if isinstance(value, list):
        return b"[" + b",".join(canonical(item) for item in value) + b"]"
    if isinstance(value, dict):
        keys = sorted(value.keys(), key=lambda key: key.encode("utf-8"))
        return b"{" + b",".join(canonical_string(key) + b":" + canonical(value[key]) for key in keys) + b"}"
    raise ReceiptInvalid("format: a value that is not null, a boolean, an integer, a string, an array or an object")


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def canonical_string(text: str) -> bytes:
    out = []
    for character in text:
        if character in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[character])
        elif ord(character) < 0x20:
            out.append("\\u%04x" % ord(character))
        else:
            out.append(character)
    return ('"' + "".join(out) + '"').encode("utf-8")


def parse(data: bytes, what: str = "receipt") -> Tuple[Dict[str, Any], Dict[str, Any], bytes]:
    """The whole document, its ``receipt`` object and the raw signature; strict JSON (no key
    twice, integers only)."""

    def no_fractions(text: str) -> Any:
        raise ReceiptInvalid("%s: a number with a fraction or exponent (%s); receipts hold integers only" % (what, text))

    def no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
        result: Dict[str, Any] = {}
        for key, value in pairs:
            if key in result:
                raise ReceiptInvalid("%s: the key %r appears twice" % (what, key))
            result[key] = value
        return result

    try:
        document = json.loads(data.decode("utf-8"), parse_float=no_fractions, parse_constant=no_fractions,
                              object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as error:
        raise ReceiptInvalid("%s: not JSON (%s)" % (what, error)) from None
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict) \
            or not isinstance(document.get("signature"), dict):
        raise ReceiptInvalid("%s: not a receipt (it needs the objects \"receipt\" and \"signature\")" % what)
    receipt: Dict[str, Any] = document["receipt"]
    if receipt.get("type") != "cloister.task-receipt" or receipt.get("version") != 1:
        raise ReceiptInvalid("%s: not a version 1 cloister.task-receipt" % what)
    signature = document["signature"]
    if signature.get("algorithm") != "ed25519" or not isinstance(signature.get("value"), str):
        raise ReceiptInvalid("%s: the signature is not an Ed25519 signature" % what)
    try:
        raw = bytes.fromhex(signature["value"])
    except ValueError:
        raise ReceiptInvalid("%s: the signature is not hex" % what) from None
    if len(raw) != 64:
        raise ReceiptInvalid("%s: an Ed25519 signature is 64 bytes, this one is %d" % (what, len(raw)))
    return document, receipt, raw


def signer_key_id(receipt_bytes: bytes) -> str:
    """The ``signer.key_id`` a receipt names (not yet verified): which key to verify it with."""
    _, receipt, _ = parse(receipt_bytes)
    return str((receipt.get("signer") or {}).get("key_id", ""))


def public_key(text: str) -> bytes:
    """An Ed25519 public key from 64 hex digits, or from a file holding them."""
    if len(text) != 64 and os.path.isfile(text):
        with open(text, "rb") as handle:
            text = handle.read().decode("ascii", "replace").strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise ReceiptInvalid("key: not hex") from None
    if len(raw) != 32:
        raise ReceiptInvalid("key: an Ed25519 public key is 32 bytes, this one is %d" % len(raw))
    return raw


def verify(receipt_bytes: bytes, key_bytes: bytes, previous_bytes: Optional[bytes] = None,
           outputs: Iterable[Tuple[str, bytes]] = ()) -> Tuple[Dict[str, Any], List[str]]:
    """Verifies a receipt (the bytes exactly as the server gave them) with the signer's public
    key; with ``previous_bytes``, that it follows that receipt in the chain; with ``outputs``
    (name, ciphertext), that each file is the one the receipt names. Returns the receipt and the
    checks that passed; raises :class:`ReceiptInvalid` naming the first that did not."""
    _, receipt, signature = parse(receipt_bytes, "receipt")
    key_id = hashlib.sha256(key_bytes).hexdigest()
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(signature, canonical(receipt))
    except InvalidSignature:
        signer = (receipt.get("signer") or {}).get("key_id")
        if signer != key_id:
            raise ReceiptInvalid("signature: the receipt names signer %s, not the key given (%s)" % (signer, key_id)) from None
        raise ReceiptInvalid("signature: does not verify; the receipt was changed after it was signed") from None
    if (receipt.get("signer") or {}).get("key_id") != key_id:
        raise ReceiptInvalid("signature: valid, but the receipt names another signer")
    checks = ["signature: ok"]
    if previous_bytes is not None:
        previous_document, previous, _ = parse(previous_bytes, "previous receipt")
        previous_hash = hashlib.sha256(canonical(previous_document)).hexdigest()
        if receipt.get("previous_receipt_sha256") != previous_hash:
            raise ReceiptInvalid("chain: the receipt links to %s, the previous receipt hashes to %s"
                                 % (receipt.get("previous_receipt_sha256"), previous_hash))
        if previous.get("sequence") is None or receipt.get("sequence") != previous["sequence"] + 1:
            raise ReceiptInvalid("chain: sequence %s does not follow %s" % (receipt.get("sequence"), previous.get("sequence")))
        checks.append("chain: ok")
    for name, data in outputs:
        named = [output for output in receipt.get("outputs", []) if output.get("name") == name]
        if not named:
            raise ReceiptInvalid("output %s: the receipt names no such output" % name)
        expected = named[0].get("ciphertext_sha256")
        actual = hashlib.sha256(data).hexdigest()
        if expected != actual:
            raise ReceiptInvalid("output %s: the file hashes to %s, the receipt says %s" % (name, actual, expected))
        checks.append("output %s: ok" % name)
    return receipt, checks


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Verify a Cloister task receipt (docs/receipts.md).")
    parser.add_argument("receipt")
    parser.add_argument("--key", required=True)
    parser.add_argument("--previous")
    parser.add_argument("--output", action="append", default=[])
    arguments = parser.parse_args(argv)
    try:
        with open(arguments.receipt, "rb") as handle:
            receipt_bytes = handle.read()
        previous_bytes = None
        if arguments.previous:
            with open(arguments.previous, "rb") as handle:
                previous_bytes = handle.read()
        outputs = []
        for pair in arguments.output:
            name, _, path = pair.partition("=")
            with open(path, "rb") as handle:
                outputs.append((name, handle.read()))
        receipt, checks = verify(receipt_bytes, public_key(arguments.key), previous_bytes, outputs)
    except ReceiptInvalid as failure:
        print("FAILED: %s" % failure)
        return 1
    for check in checks:
        print(check)
    print("verified: receipt %s of task %s (%s)" % (receipt.get("sequence"), receipt.get("task_id"), receipt.get("state")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
