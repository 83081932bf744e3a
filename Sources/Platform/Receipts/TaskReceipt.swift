import CloisterAPI
import Crypto
import Executors
import Foundation
import ProtectedFiles

/// What a worker measured of one run, for its receipt: the SHA-256 of each input's ciphertext as it
/// was fetched, of each output's ciphertext as it was written, and of the worker's executable.
struct RunEvidence: Sendable, Equatable {
    var inputs: [String: String] = [:]
    var outputs: [String: String] = [:]
    var runtimeSha256: String?

    /// The SHA-256 of this process's executable (the code that runs builtin functions, the LibOS,
    /// and the pinned hashes of the Python runtimes it checks before use), read once.
    static let executableSha256: String? = try? sha256(ofFile: "/proc/self/exe")

    /// The lowercase hex SHA-256 of the file at `path`, read in pieces.
    static func sha256(ofFile path: String) throws -> String {
        let file = try HostFile.openForReading(path)
        var hasher = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var offset: UInt64 = 0
        while true {
            let count = try buffer.withUnsafeMutableBytes { try file.read(at: offset, into: $0) }
            if count == 0 { break }
            hasher.update(data: buffer[0..<count])
            offset += UInt64(count)
        }
        return Hex.encode(hasher.finalize())
    }
}

/// A task's receipt before its transaction seals it: every field but the chain's (`sequence`,
/// `previous_receipt_sha256`, `audit_head`) and the signer's, and the key that signs it.
struct PendingReceipt: Sendable {
    let taskId: String
    let fields: [String: JSONValue]
    let signer: SigningIdentity
}

/// The receipt of a task that ended (Finished, Failed or Canceled): a canonical JSON document
/// signed with Ed25519 by the worker that ran the task (or, for a task no worker finished, by the
/// platform's key), issued in the transaction that writes the final state — a final task without
/// a receipt cannot exist. docs/receipts.md specifies it byte for byte.
///
/// ```
/// {"receipt":{…every field…},"signature":{"algorithm":"ed25519","value":"<128 hex digits>"}}
/// ```
/// The signature is over the canonical bytes of `receipt`; a receipt's hash (what the next one
/// links to) is the SHA-256 of the canonical bytes of the whole document.
enum TaskReceipt {
    static let type = "cloister.task-receipt"
    static let version = 1

    /// The receipt of `task`, which has just reached a final state; `evidence` is the worker's
    /// (nil when no worker finished it).
    static func pending(for task: TaskRecord, evidence: RunEvidence?, signer: SigningIdentity) -> PendingReceipt {
        let finished = task.state == .finished
        let arguments = JSONValue.object(task.functionArguments.mapValues { .string($0) })
        let inputs = Set(task.inputsOwnership.keys).union(task.assignedInputs.keys).sorted().map { name -> JSONValue in
            .object([
                "name": .string(name), "id": .string(task.assignedInputs[name]), "owners": .array((task.inputsOwnership[name] ?? []).sorted().map { .string($0) }),
                "ciphertext_sha256": .string(evidence?.inputs[name]),
            ])
        }
        let outputs = Set(task.outputsOwnership.keys).union(task.assignedOutputs.keys).sorted().map { name -> JSONValue in
            .object([
                "name": .string(name), "id": .string(task.assignedOutputs[name]), "owners": .array((task.outputsOwnership[name] ?? []).sorted().map { .string($0) }),
                "ciphertext_sha256": .string(finished ? evidence?.outputs[name] : nil),
                "tag": .string(finished ? task.result?.outputTags[name] : nil),
            ])
        }
        let network = task.network.map { network -> JSONValue in
            .object([
                "connect": .array(network.connect.map { .object(["host": .string($0.host), "port": .integer($0.port)]) }),
                "listen": .array(network.listen.map { .object(["address": .string($0.address), "port": .integer($0.port)]) }),
            ])
        }
        let approvals = task.approvedBy.sorted().map { user -> JSONValue in
            .object(["user": .string(user), "time": .time(task.approvedAt?[user])])
        }
        let fields: [String: JSONValue] = [
            "type": .string(type), "version": .integer(version),
            "task_id": .string(task.id), "creator": .string(task.creator), "created_at": .time(task.createdAt),
            "function_id": .string(task.functionId), "function_name": .string(task.functionName), "function_owner": .string(task.functionOwner),
            "payload_sha256": .string(task.payloadSha256),
            "executor_type": .string(task.executorType), "executor": .string(task.executor),
            "engine": .string(task.result?.engine ?? task.engine), "runtime_sha256": .string(evidence?.runtimeSha256),
            "arguments_sha256": .string(Hex.encode(SHA256.hash(data: arguments.canonicalBytes))),
            "inputs": .array(inputs), "approvals": .array(approvals), "outputs": .array(outputs), "network": network ?? .null,
            "worker": .string(task.worker), "attempt": .integer(task.attempts),
            "started_at": .time(task.startedAt), "ended_at": .time(task.updatedAt),
            "result_sha256": .string(finished ? task.result.map { Hex.encode(SHA256.hash(data: Array($0.returnValue.utf8))) } : nil),
            "state": .string(task.state.rawValue), "reason": .string(task.reason),
        ]
        return PendingReceipt(taskId: task.id, fields: fields, signer: signer)
    }

    /// The signed document of `pending`, linked after `head`: the next receipt sequence, the hash
    /// of the receipt before it (null for the platform's first), the audit head as this transaction
    /// leaves it (its own entries included), and the signer.
    static func seal(_ pending: PendingReceipt, after head: AuditChain.Head) throws -> (sequence: Int, sha256: String, document: [UInt8]) {
        var fields = pending.fields
        let sequence = head.receiptSequence + 1
        fields["sequence"] = .integer(sequence)
        fields["previous_receipt_sha256"] = .string(head.receiptSha256)
        fields["audit_head"] = .object(["sequence": .integer(head.sequence), "sha256": .string(head.sha256)])
        fields["signer"] = .object(["kind": .string(pending.signer.kind.rawValue), "key_id": .string(pending.signer.keyId)])
        let receipt = JSONValue.object(fields)
        let signature = try pending.signer.sign(receipt.canonicalBytes)
        let document = JSONValue.object([
            "receipt": receipt, "signature": .object(["algorithm": .string("ed25519"), "value": .string(Hex.encode(signature))]),
        ]).canonicalBytes
        return (sequence, Hex.encode(SHA256.hash(data: document)), document)
    }
}
