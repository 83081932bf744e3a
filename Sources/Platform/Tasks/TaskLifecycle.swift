import CloisterAPI
import Foundation
import SQLKit

/// Something that happens to a task. Each event is one step of the state machine (`TaskState.canMove`),
/// or a change within a state (an approval that is not the last one, files assigned one by one).
enum TaskEvent: Sendable {
    /// A task is created (the record as the creator's request made it, in `Created`).
    case created(TaskRecord)
    /// An owner assigns files to inputs and outputs (names to file ids).
    case dataAssigned(by: String, inputs: [String: String], outputs: [String: String])
    /// A participant approves.
    case approved(by: String)
    /// The creator invokes it: the function's quota is charged and the task queued.
    case invoked(by: String)
    /// A worker slot claims it, with a lease of `lease` milliseconds.
    case claimed(worker: String, lease: Int)
    /// The worker holding attempt `attempt` reports how the run ended: `failure` nil and the tag of
    /// each output written, or why it failed; `evidence` is what it measured for the receipt, which
    /// `signer` (its identity) signs.
    case completed(
        worker: String, attempt: Int, result: TaskResult, failure: String?, delivery: [String: String], evidence: RunEvidence,
        signer: SigningIdentity)
    /// The creator or an admin cancels it; `signer` (the platform's key) signs the receipt.
    case canceled(by: String, signer: SigningIdentity)
    /// A participant declines it before it is invoked (even after approving): it is canceled, and
    /// `signer` (the platform's key) signs the receipt.
    case declined(by: String, signer: SigningIdentity)
    /// Its worker's lease ran out: it runs again, unless it has had `maxAttempts` attempts (it then
    /// fails, and `signer`, the platform's key, signs the receipt).
    case leaseExpired(maxAttempts: Int, signer: SigningIdentity)
    /// A worker shutting down gives back the attempt it holds (not counted).
    case released(worker: String, attempt: Int)
}

/// A worker's event for an attempt it no longer holds: the task was canceled, or its lease ran out
/// and it was taken over (or settled) by someone else. The worker delivers nothing.
struct LeaseLost: Error, CustomStringConvertible {
    let task: String
    var description: String { "task \(task) is no longer held by this worker" }
}

/// The task lifecycle in one place: ``apply(_:to:in:)`` is the only code that changes a task.
///
/// In the caller's transaction it reads the task (row locked), checks that the event is allowed in
/// the task's state and that any state change is a move of the state machine, then writes the
/// record, its side rows (participants, the function's invocation count, the outputs' tags), the
/// queue's columns (`queued_at`, `lease_until`, `ended_at`) and one audit entry for a state change,
/// and publishes what other processes must hear (a task queued, canceled, or its state changed). The API calls,
/// the queue, the workers, cancel and the recovery of lost workers all go through it, so all of
/// these commit together or not at all. A task that reaches a final state gets its signed receipt
/// (`TaskReceipt`) in the same transaction: a final task without a receipt cannot exist.
enum TaskLifecycle {
    /// Applies `event` to task `id` inside `transaction`; the task as written.
    ///
    /// A refusal (the event is not allowed in the task's state) is a `PlatformError` and writes
    /// nothing; a worker's event for an attempt it does not hold is `LeaseLost`.
    @discardableResult
    static func apply(_ event: TaskEvent, to id: String, in transaction: Transaction) async throws -> TaskRecord {
        if case .created(let record) = event { return try await create(record, in: transaction) }
        guard let before = try await transaction.tasks.get(id, lock: true) else { throw PlatformError.notFound("no task \(id)") }
        var after = before
        var actor = "-"
        var detail: String?
        var columns: [(String, any SQLExpression)] = []
        var events: [StoreEvent] = []
        var sideRows: [@Sendable (Transaction) async throws -> Void] = []
        var receipt: (evidence: RunEvidence?, signer: SigningIdentity)?

        switch event {
        case .created:
            preconditionFailure("handled above")

        case .dataAssigned(let user, let inputs, let outputs):
            actor = user
            guard before.state == .created else {
                throw PlatformError.conflict("task \(id) is \(before.state.rawValue); it cannot take data")
            }
            for (name, file) in inputs { after.assignedInputs[name] = file }
            for (name, file) in outputs { after.assignedOutputs[name] = file }
            after.advance()

        case .approved(let user):
            actor = user
            guard before.state == .dataAssigned else {
                throw PlatformError.conflict("task \(id) is \(before.state.rawValue); it cannot be approved")
            }
            guard !before.approvedBy.contains(user) else { throw PlatformError.conflict("\(user) has approved task \(id) already") }
            after.approvedBy.append(user)
            after.approvedAt = (after.approvedAt ?? [:]).merging([user: Date()]) { _, new in new }
            after.advance()

        case .invoked(let user):
            actor = user
            guard before.state == .approved else {
                throw PlatformError.conflict("task \(id) is \(before.state.rawValue); it cannot be invoked")
            }
            try after.move(to: .staged, for: "be invoked")
            after.queuedAt = Date()
            columns.append(("queued_at", DatabaseNow()))
            let functionId = before.functionId
            sideRows.append { transaction in try await chargeInvocation(of: functionId, in: transaction) }
            events.append(.queued)

        case .claimed(let worker, let lease):
            guard before.state == .staged else { throw PlatformError.conflict("task \(id) is \(before.state.rawValue); it cannot be claimed") }
            try after.move(to: .running, for: "be claimed")
            after.worker = worker
            after.attempts += 1
            after.startedAt = Date()
            columns.append(("lease_until", DatabaseNow(offset: lease)))
            detail = "Running on \(worker)"

        case .completed(let worker, let attempt, let result, let failure, let delivery, let evidence, let signer):
            guard before.state == .running, before.worker == worker, before.attempts == attempt else { throw LeaseLost(task: id) }
            receipt = (evidence, signer)
            var failure = failure
            var written: [(file: String, tag: String, from: String?)] = []
            if failure == nil {
                for (name, tag) in result.outputTags.sorted(by: { $0.key < $1.key }) {
                    guard let fileId = before.assignedOutputs[name] else { continue }
                    guard let file = try await transaction.files.get(fileId, lock: true), file.tag == nil else {
                        // Exactly once: an output another task wrote first is not written again.
                        failure = "output \(name): it was written by another task first; nothing was replaced"
                        break
                    }
                    written.append((fileId, tag, delivery[name]))
                }
            }
            after.result = result
            if let failure {
                try after.move(to: .failed, for: "fail")
                after.reason = failure
                after.result?.outputTags = [:]
                detail = "Failed: \(failure)"
            } else {
                try after.move(to: .finished, for: "finish")
                let outputs = written
                sideRows.append { transaction in
                    for output in outputs {
                        try await transaction.files.modify(output.file) { file in
                            file.tag = output.tag
                            file.deliveredFrom = output.from
                            return true
                        }
                    }
                }
            }
            columns.append(("lease_until", SQLLiteral.null))
            columns.append(("ended_at", DatabaseNow()))

        case .canceled(let user, let signer):
            actor = user
            try after.move(to: .canceled, for: "be canceled")
            receipt = (nil, signer)
            after.reason = "canceled by \(user)"
            columns.append(("lease_until", SQLLiteral.null))
            columns.append(("ended_at", DatabaseNow()))
            events.append(.canceled(taskId: id))

        case .declined(let user, let signer):
            actor = user
            guard [.created, .dataAssigned, .approved].contains(before.state) else {
                throw PlatformError.conflict("task \(id) is \(before.state.rawValue); it can no longer be declined (its creator may cancel it)")
            }
            try after.move(to: .canceled, for: "be declined")
            receipt = (nil, signer)
            after.reason = "declined by \(user)"
            detail = "Canceled: declined by \(user)"
            columns.append(("ended_at", DatabaseNow()))

        case .leaseExpired(let maxAttempts, let signer):
            guard before.state == .running else { throw PlatformError.conflict("task \(id) is \(before.state.rawValue); no lease to expire") }
            if before.attempts < maxAttempts {
                try after.move(to: .staged, for: "be retried")
                detail = "Staged: retried, its worker \(before.worker ?? "?") stopped (attempt \(before.attempts) of \(maxAttempts))"
                events.append(.queued)
                columns.append(("lease_until", SQLLiteral.null))
            } else {
                try after.move(to: .failed, for: "fail")
                receipt = (nil, signer)
                after.reason = "the worker running the task stopped (its lease ran out on each of \(maxAttempts) attempts)"
                detail = "Failed: \(after.reason!)"
                columns.append(("lease_until", SQLLiteral.null))
                columns.append(("ended_at", DatabaseNow()))
            }
            after.worker = nil

        case .released(let worker, let attempt):
            guard before.state == .running, before.worker == worker, before.attempts == attempt else { throw LeaseLost(task: id) }
            try after.move(to: .staged, for: "be requeued")
            after.worker = nil
            after.attempts = max(0, before.attempts - 1)
            detail = "Staged: requeued at shutdown"
            columns.append(("lease_until", SQLLiteral.null))
            events.append(.queued)
        }

        // Every state change above went through `TaskRecord.move`, which keeps to the state machine.
        after.updatedAt = Date()
        let written = try await transaction.tasks.update(after, setting: columns)
        for write in sideRows { try await write(transaction) }
        if written.state != before.state {
            try await transaction.audit(user: actor, action: "task.state", object: id, allowed: true, detail: detail ?? written.state.rawValue)
            events.append(.changed(taskId: id))
        }
        if let receipt, written.state.isFinal {
            transaction.issue(TaskReceipt.pending(for: written, evidence: receipt.evidence, signer: receipt.signer))
        }
        for event in events { try await transaction.publish(event) }
        return written
    }

    /// Inserts a new task with its participants (already advanced as far as its data and
    /// approvals allow), and records its first state.
    private static func create(_ record: TaskRecord, in transaction: Transaction) async throws -> TaskRecord {
        guard try await transaction.tasks.insert(record) else { throw PlatformError.conflict("task \(record.id) exists already") }
        for user in record.participants {
            try await CachedStatement("task_participants.insert", on: transaction.sql, binds: [record.id, user]) { sql, values in
                sql.insert(into: "task_participants").columns("task_id", "user_id").values(values).query
            }.run(on: transaction.sql)
        }
        try await transaction.audit(user: record.creator, action: "task.state", object: record.id, allowed: true, detail: record.state.rawValue)
        var stored = record
        stored.version = 1
        return stored
    }

    /// Counts one invocation against the function's quota: refused when the function is disabled,
    /// deleted or out of quota (the whole invoke is then rolled back).
    private static func chargeInvocation(of functionId: String, in transaction: Transaction) async throws {
        guard var function = try await transaction.functions.get(functionId, lock: true) else {
            throw PlatformError.conflict("function \(functionId) was deleted")
        }
        guard !function.disabled else { throw PlatformError.conflict("function \(function.id) is disabled") }
        if let quota = function.usageQuota, function.invocations >= quota {
            throw PlatformError.quotaExceeded("function \(function.id) has used its quota of \(quota) invocations")
        }
        function.invocations += 1
        try await transaction.functions.update(function)
    }
}
