#!/usr/bin/env python3
"""An independent verifier of Cloister task receipts, written from docs/receipts.md alone.

It shares no code with Cloister: Python's standard library and the `cryptography` package only.
PlatformTests runs it against receipts from a real server (ReceiptTests).

    python3 verify.py RECEIPT.json --key KEY [--previous PREVIOUS.json] [--output NAME=FILE]...

KEY is the signer's Ed25519 public key as 64 hex digits, or a file holding them. Exits 0 and
prints "verified" when every check passes; exits 1 and prints "FAILED: <check>: <why>" otherwise.
"""
import argparse
import hashlib
import json
import os
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failure(Exception):
    pass


def canonical(value):
    """docs/receipts.md, "Canonical JSON"."""
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
    raise Failure("format: a value that is not null, a boolean, an integer, a string, an array or an object")


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def canonical_string(text):
    out = []
    for character in text:
        if character in SHORT_ESCAPES:
            out.append(SHORT_ESCAPES[character])
        elif ord(character) < 0x20:
            out.append("\\u%04x" % ord(character))
        else:
            out.append(character)
    return ('"' + "".join(out) + '"').encode("utf-8")


def parse(data, what):
    def no_fractions(text):
        raise Failure("%s: a number with a fraction or exponent (%s); receipts hold integers only" % (what, text))

    def no_duplicates(pairs):
        result = {}
        for key, value in pairs:
            if key in result:
                raise Failure("%s: the key %r appears twice" % (what, key))
            result[key] = value
        return result

    try:
        document = json.loads(data.decode("utf-8"), parse_float=no_fractions, parse_constant=no_fractions,
                              object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as error:
        raise Failure("%s: not JSON (%s)" % (what, error))
    if not isinstance(document, dict) or not isinstance(document.get("receipt"), dict) \
            or not isinstance(document.get("signature"), dict):
        raise Failure("%s: not a receipt (it needs the objects \"receipt\" and \"signature\")" % what)
    receipt = document["receipt"]
    if receipt.get("type") != "cloister.task-receipt" or receipt.get("version") != 1:
        raise Failure("%s: not a version 1 cloister.task-receipt" % what)
    signature = document["signature"]
    if signature.get("algorithm") != "ed25519" or not isinstance(signature.get("value"), str):
        raise Failure("%s: the signature is not an Ed25519 signature" % what)
    try:
        raw = bytes.fromhex(signature["value"])
    except ValueError:
        raise Failure("%s: the signature is not hex" % what)
    if len(raw) != 64:
        raise Failure("%s: an Ed25519 signature is 64 bytes, this one is %d" % (what, len(raw)))
    return document, receipt, raw


def public_key(text):
    if len(text) != 64 and os.path.isfile(text):
        with open(text, "rb") as handle:
            text = handle.read().decode("ascii", "replace").strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raise Failure("key: not hex")
    if len(raw) != 32:
        raise Failure("key: an Ed25519 public key is 32 bytes, this one is %d" % len(raw))
    return raw


def verify(receipt_bytes, key_bytes, previous_bytes=None, outputs=()):
    _, receipt, signature = parse(receipt_bytes, "receipt")
    key_id = hashlib.sha256(key_bytes).hexdigest()
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(signature, canonical(receipt))
    except InvalidSignature:
        signer = (receipt.get("signer") or {}).get("key_id")
        if signer != key_id:
            raise Failure("signature: the receipt names signer %s, not the key given (%s)" % (signer, key_id))
        raise Failure("signature: does not verify; the receipt was changed after it was signed")
    if (receipt.get("signer") or {}).get("key_id") != key_id:
        raise Failure("signature: valid, but the receipt names another signer")
    checks = ["signature: ok"]
    if previous_bytes is not None:
        previous_document, previous, _ = parse(previous_bytes, "previous receipt")
        previous_hash = hashlib.sha256(canonical(previous_document)).hexdigest()
        if receipt.get("previous_receipt_sha256") != previous_hash:
            raise Failure("chain: the receipt links to %s, the previous receipt hashes to %s"
                          % (receipt.get("previous_receipt_sha256"), previous_hash))
        if previous.get("sequence") is None or receipt.get("sequence") != previous["sequence"] + 1:
            raise Failure("chain: sequence %s does not follow %s" % (receipt.get("sequence"), previous.get("sequence")))
        checks.append("chain: ok")
    for name, data in outputs:
        named = [output for output in receipt.get("outputs", []) if output.get("name") == name]
        if not named:
            raise Failure("output %s: the receipt names no such output" % name)
        expected = named[0].get("ciphertext_sha256")
        actual = hashlib.sha256(data).hexdigest()
        if expected != actual:
            raise Failure("output %s: the file hashes to %s, the receipt says %s" % (name, actual, expected))
        checks.append("output %s: ok" % name)
    return receipt, checks


def main():
    parser = argparse.ArgumentParser(description="Verify a Cloister task receipt (docs/receipts.md).")
    parser.add_argument("receipt")
    parser.add_argument("--key", required=True)
    parser.add_argument("--previous")
    parser.add_argument("--output", action="append", default=[])
    arguments = parser.parse_args()
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
    except Failure as failure:
        print("FAILED: %s" % failure)
        return 1
    for check in checks:
        print(check)
    print("verified: receipt %s of task %s (%s)" % (receipt.get("sequence"), receipt.get("task_id"), receipt.get("state")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
