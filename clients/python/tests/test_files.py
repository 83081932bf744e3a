"""The file schemes: round trips, every failure the format detects, and files exchanged with the
`cloister` binary in both directions (so the two implementations agree on the format)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import unittest

import cloister
from cloister import files

from . import harness

SCHEMES = ["aes-gcm-128", "aes-gcm-256", "cloister-file-128", "cloister-file-256"]


class RoundTrips(unittest.TestCase):
    def test_every_scheme_round_trips_every_length(self) -> None:
        for scheme in SCHEMES:
            for length in (0, 1, 15, 16, 17, 100, 1000):
                with self.subTest(scheme=scheme, length=length):
                    key = cloister.keygen(scheme)
                    plaintext = os.urandom(length)
                    sealed = cloister.encrypt(scheme, key.key, plaintext, iv=key.iv, chunk_size=16)
                    self.assertEqual(cloister.decrypt(scheme, key.key, sealed.data, iv=key.iv, tag=sealed.tag), plaintext)
                    self.assertEqual(cloister.file_tag(scheme, sealed.data), sealed.tag)
                    self.assertEqual(len(sealed.tag), cloister.Scheme(scheme).tag_size)

    def test_the_chunked_layout_is_the_documented_one(self) -> None:
        key = cloister.keygen("cloister-file-128")
        for length, chunks in ((0, 1), (16, 1), (17, 2), (48, 3)):
            sealed = cloister.encrypt("cloister-file-128", key.key, bytes(length), chunk_size=16)
            self.assertEqual(len(sealed.data), 32 + length + 28 * chunks)
            self.assertEqual(sealed.data[:8], b"CLOISTRF")

    def test_files_stream_and_carry_the_same_tag(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            plain = os.path.join(folder, "plain")
            with open(plain, "wb") as sink:
                sink.write(os.urandom(3 * (1 << 20) + 5))
            for scheme in SCHEMES:
                with self.subTest(scheme=scheme):
                    key = cloister.keygen(scheme)
                    sealed, opened = os.path.join(folder, scheme + ".enc"), os.path.join(folder, scheme + ".out")
                    tag = cloister.encrypt_file(scheme, key.key, plain, sealed, iv=key.iv)
                    self.assertEqual(cloister.decrypt_file(scheme, key.key, sealed, opened, iv=key.iv, tag=tag), tag)
                    with open(plain, "rb") as a, open(opened, "rb") as b:
                        self.assertEqual(a.read(), b.read())
                    with open(sealed, "rb") as source:
                        self.assertEqual(cloister.file_tag(scheme, source.read()), tag)


class Failures(unittest.TestCase):
    def test_a_wrong_key_fails_and_says_so(self) -> None:
        for scheme in SCHEMES:
            with self.subTest(scheme=scheme):
                key, other = cloister.keygen(scheme), cloister.keygen(scheme)
                sealed = cloister.encrypt(scheme, key.key, b"secret", iv=key.iv)
                with self.assertRaises(cloister.AuthenticationFailed):
                    cloister.decrypt(scheme, other.key, sealed.data, iv=key.iv)

    def test_a_flipped_bit_anywhere_fails(self) -> None:
        for scheme in SCHEMES:
            key = cloister.keygen(scheme)
            sealed = cloister.encrypt(scheme, key.key, b"x" * 50, iv=key.iv, chunk_size=16)
            for position in range(0, len(sealed.data), 7):
                with self.subTest(scheme=scheme, position=position):
                    damaged = bytearray(sealed.data)
                    damaged[position] ^= 1
                    with self.assertRaises(cloister.FileFormatError):
                        cloister.decrypt(scheme, key.key, bytes(damaged), iv=key.iv)

    def test_truncation_and_appending_fail(self) -> None:
        key = cloister.keygen("cloister-file-256")
        sealed = cloister.encrypt("cloister-file-256", key.key, b"y" * 40, chunk_size=16).data
        for damaged in (sealed[:-1], sealed[: 32 + 44], sealed[:31], sealed + b"z"):
            with self.assertRaises(cloister.FileFormatError):
                cloister.decrypt("cloister-file-256", key.key, damaged)

    def test_keys_ivs_and_schemes_are_checked_before_any_byte(self) -> None:
        with self.assertRaisesRegex(cloister.FileFormatError, "bad key size for cloister-file-128: expected 16 bytes, got 32"):
            cloister.encrypt("cloister-file-128", bytes(32), b"")
        with self.assertRaisesRegex(cloister.FileFormatError, "12-byte IV"):
            cloister.encrypt("aes-gcm-128", bytes(16), b"", iv=bytes(8))
        with self.assertRaisesRegex(cloister.FileFormatError, "unknown scheme 'rot13'"):
            cloister.keygen("rot13")
        key = cloister.keygen("cloister-file-128")
        sealed = cloister.encrypt("cloister-file-128", key.key, b"data")
        with self.assertRaisesRegex(cloister.FileFormatError, "wrong scheme"):
            cloister.decrypt("cloister-file-256", bytes(32), sealed.data)

    def test_a_failed_decryption_leaves_no_output(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            key = cloister.keygen("aes-gcm-256")
            sealed = os.path.join(folder, "in.enc")
            with open(sealed, "wb") as sink:
                sink.write(cloister.encrypt("aes-gcm-256", key.key, b"p" * 5000, iv=key.iv).data)
            output = os.path.join(folder, "out")
            with self.assertRaises(cloister.AuthenticationFailed):
                cloister.decrypt_file("aes-gcm-256", cloister.keygen("aes-gcm-256").key, sealed, output, iv=key.iv)
            self.assertEqual(os.listdir(folder), ["in.enc"])


class AgainstTheBinary(unittest.TestCase):
    """The `cloister` CLI and this package read each other's files."""

    def run_cloister(self, *arguments: str) -> str:
        answer = subprocess.run([harness.binary(), *arguments], capture_output=True, text=True, timeout=120)
        self.assertEqual(answer.returncode, 0, answer.stderr)
        return answer.stdout

    def test_python_encrypts_and_the_cli_decrypts(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            for scheme in SCHEMES:
                with self.subTest(scheme=scheme):
                    key = cloister.keygen(scheme)
                    key_file, plain, sealed, opened = (os.path.join(folder, scheme + suffix) for suffix in (".key", ".txt", ".enc", ".out"))
                    with open(key_file, "w") as sink:
                        sink.write(key.keyfile_text())
                    with open(plain, "wb") as sink:
                        sink.write(b"first line\n" + os.urandom(70000))
                    tag = cloister.encrypt_file(scheme, key.key, plain, sealed, iv=key.iv)
                    printed = self.run_cloister("decrypt", "--scheme", scheme, "--key-file", key_file, "-i", sealed, "-o", opened, "--print-tag")
                    self.assertEqual(printed.strip(), tag.hex())
                    with open(plain, "rb") as a, open(opened, "rb") as b:
                        self.assertEqual(a.read(), b.read())

    def test_the_cli_encrypts_and_python_decrypts(self) -> None:
        with tempfile.TemporaryDirectory() as folder:
            for scheme in SCHEMES:
                with self.subTest(scheme=scheme):
                    key = cloister.Key.from_keyfile(scheme, self.run_cloister("keygen", "--scheme", scheme))
                    key_file, plain, sealed = (os.path.join(folder, scheme + suffix) for suffix in (".key", ".txt", ".enc"))
                    with open(key_file, "w") as sink:
                        sink.write(key.keyfile_text())
                    content = os.urandom(200000)
                    with open(plain, "wb") as sink:
                        sink.write(content)
                    tag = self.run_cloister("encrypt", "--scheme", scheme, "--key-file", key_file, "-i", plain, "-o", sealed, "--print-tag").strip()
                    with open(sealed, "rb") as source:
                        data = source.read()
                    self.assertEqual(cloister.file_tag(scheme, data).hex(), tag)
                    self.assertEqual(cloister.decrypt(scheme, key.key, data, iv=key.iv, tag=bytes.fromhex(tag)), content)


if __name__ == "__main__":
    unittest.main()
