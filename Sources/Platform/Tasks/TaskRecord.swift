import CloisterAPI
import Foundation

/// A task as stored: the API's `TaskInfo` plus what the queue and workers keep.
struct TaskRecord: StoredRecord {
    static let table = "tasks"
    var id: String
    var version = 0
    var functionId: String
    var functionOwner: String
    var functionName: String
    /// The SHA-256 of the function's payload when the task was created: what the participants
    /// approve. A worker refuses to run a function that changed since.
    var payloadSha256: String
    var executorType: String
    var creator: String
    var executor: String
    /// The engine the task must run on (`wasmtime`, `wasmkit`); nil: any engine a worker runs.
    var engine: String? = nil
    var functionArguments: [String: String]
    var inputsOwnership: [String: [String]]
    var outputsOwnership: [String: [String]]
    var participants: [String]
    var approvedBy: [String]
    /// When each participant in `approvedBy` approved (nil in a task from before receipts).
    var approvedAt: [String: Date]? = nil
    var assignedInputs: [String: String]
    var assignedOutputs: [String: String]
    /// Changed only by ``move(to:for:)`` and ``advance()``, which keep to the state machine.
    private(set) var state: TaskState
    var result: TaskResult?
    var reason: String?
    var createdAt: Date
    var updatedAt: Date
    /// When it was invoked (the queue orders by the `queued_at` column, the database's clock).
    var queuedAt: Date?
    /// The worker slot that claimed it last (its lease, `lease_until`, is a column only: heartbeats
    /// renew it without rewriting the record).
    var worker: String?
    /// How many times a worker claimed it; the attempt a worker holds is this number at its claim.
    var attempts = 0
    /// When a worker claimed it last (its receipt's start).
    var startedAt: Date? = nil
    /// The function's network use when the task was created: what every participant approves and
    /// all the function may reach (nil: no network). A later change of the function changes not it.
    var network: FunctionNetwork? = nil

    var indexColumns: [(String, any Encodable & Sendable)] {
        [
            ("state", state.rawValue), ("function_id", functionId), ("executor_type", executorType), ("executor", executor),
            ("engine", engine), ("worker", worker), ("attempt", attempts),
        ]
    }

    /// Whether every declared file with owners has a file assigned.
    var isDataComplete: Bool {
        inputsOwnership.keys.allSatisfy { assignedInputs[$0] != nil } && outputsOwnership.keys.allSatisfy { assignedOutputs[$0] != nil }
    }

    var isFullyApproved: Bool { Set(participants).isSubset(of: approvedBy) }

    /// Moves to `next`, or a 409 naming the current state and what was asked.
    mutating func move(to next: TaskState, for action: String) throws(PlatformError) {
        guard state.canMove(to: next) else {
            throw .conflict("task \(id) is \(state.rawValue); it cannot \(action)")
        }
        state = next
        updatedAt = Date()
    }

    /// Moves on through DataAssigned and Approved as far as its data and approvals allow.
    mutating func advance() {
        if state == .created, isDataComplete { try! move(to: .dataAssigned, for: "take its data") }
        if state == .dataAssigned, isFullyApproved { try! move(to: .approved, for: "be approved") }
        updatedAt = Date()
    }

    var api: TaskInfo {
        TaskInfo(
            id: id, functionId: functionId, functionOwner: functionOwner, functionName: functionName,
            payloadSha256: payloadSha256, creator: creator, executor: executor,
            functionArguments: functionArguments, inputsOwnership: inputsOwnership, outputsOwnership: outputsOwnership,
            participants: participants, approvedBy: approvedBy.sorted(), assignedInputs: assignedInputs,
            assignedOutputs: assignedOutputs, state: state, result: result, reason: reason, createdAt: createdAt,
            updatedAt: updatedAt, engine: engine, network: network)
    }
}

extension TaskState {
    /// The transitions of the task state machine:
    /// Created → DataAssigned → Approved → Staged → Running → Finished | Failed, any state that is
    /// not final → Canceled, and Running → Staged (its worker's lease ran out, or the worker shut
    /// down: the task runs again).
    public func canMove(to next: TaskState) -> Bool {
        switch (self, next) {
        case (.created, .dataAssigned), (.dataAssigned, .approved), (.approved, .staged), (.staged, .running),
            (.running, .finished), (.running, .failed), (.running, .staged):
            return true
        case (_, .canceled):
            return !isFinal
        default:
            return false
        }
    }
}
