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
    var functionArguments: [String: String]
    var inputsOwnership: [String: [String]]
    var outputsOwnership: [String: [String]]
    var participants: [String]
    var approvedBy: [String]
    var assignedInputs: [String: String]
    var assignedOutputs: [String: String]
    var state: TaskState
    var result: TaskResult?
    var reason: String?
    var createdAt: Date
    var updatedAt: Date
    /// When it was invoked (the queue's order).
    var queuedAt: Date?
    /// The worker that claimed it, its last heartbeat, and whether the function had started.
    var worker: String?
    var heartbeatAt: Date?
    var startedAt: Date?
    /// How many times a worker claimed it.
    var attempts = 0

    var indexColumns: [(String, any Encodable & Sendable)] {
        [
            ("state", state.rawValue), ("function_id", functionId),
            ("queued_at", queuedAt.map { Clock.milliseconds($0) }), ("heartbeat_at", heartbeatAt.map { Clock.milliseconds($0) }),
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
        if state == .created, isDataComplete { state = .dataAssigned }
        if state == .dataAssigned, isFullyApproved { state = .approved }
        updatedAt = Date()
    }

    var api: TaskInfo {
        TaskInfo(
            id: id, functionId: functionId, functionOwner: functionOwner, creator: creator, executor: executor,
            functionArguments: functionArguments, inputsOwnership: inputsOwnership, outputsOwnership: outputsOwnership,
            participants: participants, approvedBy: approvedBy.sorted(), assignedInputs: assignedInputs,
            assignedOutputs: assignedOutputs, state: state, result: result, reason: reason, createdAt: createdAt,
            updatedAt: updatedAt)
    }
}

extension TaskState {
    /// The transitions of the task state machine:
    /// Created → DataAssigned → Approved → Staged → Running → Finished | Failed, any state that is
    /// not final → Canceled, and Running → Staged (a worker was
    /// lost before the function started; retried once).
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
