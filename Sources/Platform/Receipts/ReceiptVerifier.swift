import Crypto
import Executors
import Foundation
import ProtectedFiles

/// Checks a task receipt with no server (`cloister receipt verify`): that it is signed by the key
/// given, that it follows the receipt given as the one before it, and that the output files a party
/// holds are the ones it names. docs/receipts.md is the specification; the Python client's
/// clients/python/cloister/receipts.py is an independent implementation of it.
public enum ReceiptVerifier {
    /// What a receipt that verified says, and each check that passed.
    public struct Report: Sendable {
        public let taskId: String
        public let state: String
        public let sequence: Int
        /// One line per check (`signature: …`, `chain: …`, `output NAME: …`).
        public let checks: [String]
    }

    /// Verifies `receipt` (the document's bytes) against the Ed25519 `publicKey` (32 bytes),
    /// `previous` (the bytes of the receipt before it, if given) and `outputs` (output name → the
    /// bytes of the file the party holds). Throws the first check that fails.
    public static func verify(
        receipt: [UInt8], publicKey: [UInt8], previous: [UInt8]? = nil, outputs: [(name: String, bytes: [UInt8])] = []
    ) throws(ReceiptVerificationFailure) -> Report {
        let (_, body, signature) = try parse(receipt, what: "the receipt")
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else {
            throw ReceiptVerificationFailure("key: an Ed25519 public key is 32 bytes; the one given is \(publicKey.count)")
        }
        let givenId = SigningIdentity.keyId(of: publicKey)
        let signerId = body["signer"]?["key_id"]?.string ?? "?"
        let signerKind = body["signer"]?["kind"]?.string ?? "?"
        guard key.isValidSignature(signature, for: body.canonicalBytes) else {
            if signerId != givenId {
                throw ReceiptVerificationFailure(
                    "signature: the receipt was signed by the \(signerKind) key \(signerId.prefix(16))…, not by the key given (\(givenId.prefix(16))…): check it with the key of the worker that ran the task (GET /v1/workers)")
            }
            throw ReceiptVerificationFailure(
                "signature: it does not verify with the signer's key \(givenId.prefix(16))…: the receipt was changed after it was signed")
        }
        guard signerId == givenId else {
            throw ReceiptVerificationFailure("signature: valid, but the receipt names the signer \(signerId.prefix(16))…, not the key given")
        }
        guard let taskId = body["task_id"]?.string, let state = body["state"]?.string, let sequence = body["sequence"]?.integer else {
            throw ReceiptVerificationFailure("the receipt lacks task_id, state or sequence")
        }
        var checks = ["signature: ok (\(signerKind) key \(givenId.prefix(16))…)"]

        if let previous {
            let (document, before, _) = try parse(previous, what: "the previous receipt")
            let link = body["previous_receipt_sha256"]?.string
            let previousHash = Hex.encode(SHA256.hash(data: document.canonicalBytes))
            guard link == previousHash, before["sequence"]?.integer.map({ $0 + 1 }) == sequence else {
                throw ReceiptVerificationFailure(
                    "chain: receipt \(sequence) links to \(link.map { String($0.prefix(16)) + "…" } ?? "nothing (it is the first)"), but the receipt given as the one before it (sequence \(before["sequence"]?.integer.map(String.init) ?? "?")) hashes to \(previousHash.prefix(16))…: it is not the receipt before this one")
            }
            checks.append("chain: ok (follows receipt \(sequence - 1))")
        } else {
            checks.append("chain: not checked (give the receipt before it with --previous)")
        }

        let named = body["outputs"]?.array ?? []
        for (name, bytes) in outputs {
            guard let output = named.first(where: { $0["name"]?.string == name }) else {
                let names = named.compactMap { $0["name"]?.string }
                throw ReceiptVerificationFailure(
                    "output \(name): the receipt names no such output (it has: \(names.isEmpty ? "none" : names.joined(separator: ", ")))")
            }
            guard let expected = output["ciphertext_sha256"]?.string else {
                throw ReceiptVerificationFailure("output \(name): the receipt records no hash for it (the task did not write it)")
            }
            let actual = Hex.encode(SHA256.hash(data: bytes))
            guard actual == expected else {
                throw ReceiptVerificationFailure(
                    "output \(name): the file has SHA-256 \(actual.prefix(16))…, the receipt says \(expected.prefix(16))…: it is not the output this task wrote")
            }
            checks.append("output \(name): ok (\(expected.prefix(16))…)")
        }
        return Report(taskId: taskId, state: state, sequence: sequence, checks: checks)
    }

    /// An Ed25519 public key given as 64 hex digits, or a file that holds them.
    public static func publicKey(_ text: String) throws(ReceiptVerificationFailure) -> [UInt8] {
        var hex = text
        if text.count != 64, let data = FileManager.default.contents(atPath: text) {
            hex = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard let key = try? Hex.decode(hex), key.count == 32 else {
            throw ReceiptVerificationFailure("key: give the signer's Ed25519 public key as 64 hex digits, or a file holding them (GET /v1/workers lists them)")
        }
        return key
    }

    /// The receipt's document, body and signature, or why `bytes` is not a receipt.
    private static func parse(_ bytes: [UInt8], what: String) throws(ReceiptVerificationFailure) -> (JSONValue, JSONValue, [UInt8]) {
        let document: JSONValue
        do {
            document = try JSONValue.parseCanonical(bytes)
        } catch {
            throw ReceiptVerificationFailure("\(what) is not a receipt: \(error)")
        }
        guard let body = document["receipt"], case .object = body, let signature = document["signature"] else {
            throw ReceiptVerificationFailure("\(what) is not a receipt: it needs the members \"receipt\" and \"signature\"")
        }
        guard body["type"]?.string == TaskReceipt.type, body["version"]?.integer == TaskReceipt.version else {
            throw ReceiptVerificationFailure("\(what) is not a version \(TaskReceipt.version) \(TaskReceipt.type)")
        }
        guard signature["algorithm"]?.string == "ed25519", let value = signature["value"]?.string,
            let raw = try? Hex.decode(value), raw.count == 64
        else {
            throw ReceiptVerificationFailure("\(what): its signature is not an Ed25519 signature (128 hex digits)")
        }
        return (document, body, raw)
    }
}

/// A receipt that does not verify: which check failed and why.
public struct ReceiptVerificationFailure: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }

    /// The receipt names a signer whose key is not published.
    public static func unknownSigner(_ keyId: String) -> ReceiptVerificationFailure {
        ReceiptVerificationFailure("signature: the receipt names the signer \(keyId.prefix(16))…, a key the platform does not publish")
    }
}
