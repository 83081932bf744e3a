import CloisterAPI
import Foundation

/// What a task that has not ended waits for, seen by one of its participants.
public struct TaskProgress: Sendable, Equatable, CustomStringConvertible {
    /// Who must act next and what they must do (empty once the platform runs it).
    public let waitingFor: [String]
    /// What `user` itself must do before the task can go on, if anything: a task waited on by
    /// the only one who can move it never moves.
    public let yourTurn: String?

    /// The progress of `task` as `user` sees it.
    public init(_ task: TaskInfo, user: String) {
        var waiting: [String] = []
        var mine: [String] = []
        switch task.state {
        case .created:
            for (kind, ownership, assigned, option) in [
                ("input", task.inputsOwnership, task.assignedInputs, "--input"),
                ("output", task.outputsOwnership, task.assignedOutputs, "--output"),
            ] {
                for (name, owners) in ownership.sorted(by: { $0.key < $1.key }) where assigned[name] == nil {
                    waiting.append("\(owners.joined(separator: " or ")) to assign \(kind) \(name)")
                    if owners.contains(user) { mine.append("assign \(kind) \(name) (cloister task assign \(task.id) \(option) \(name)=ID)") }
                }
            }
        case .dataAssigned:
            let pending = task.participants.filter { !task.approvedBy.contains($0) }
            waiting.append("approval by \(pending.joined(separator: ", "))")
            if pending.contains(user) { mine.append("approve it (cloister task approve \(task.id))") }
        case .approved:
            waiting.append("\(task.creator) to invoke it")
            if task.creator == user { mine.append("invoke it (cloister task invoke \(task.id))") }
        case .staged:
            waiting.append("a worker")
        case .running, .finished, .failed, .canceled:
            break
        }
        waitingFor = waiting
        yourTurn = mine.isEmpty ? nil : "task \(task.id) is \(task.state.rawValue) and waits for you to " + mine.joined(separator: " and ")
    }

    public var description: String { waitingFor.isEmpty ? "" : "waiting for " + waitingFor.joined(separator: "; ") }
}

extension CloisterClient {
    /// Waits until the task is Finished, Failed or Canceled and returns it.
    ///
    /// `onChange` sees the task each time its state changes (and first as it is). Given `user`
    /// (the caller's id), the wait stops at once with an error of code `stuck` when the task
    /// waits for that user's own action — data to assign, an approval, the invocation — since
    /// nobody else can move it. Past `timeout` it is an error of code `wait_timeout`. The waiting
    /// is done by the server: long polls (``getTask(_:waitingUpTo:whileStateIs:)``), one call per
    /// change of state or per 30 s.
    public func waitForTask(
        _ id: String, timeout: Duration = .seconds(300), as user: String? = nil, onChange: @Sendable (TaskInfo) -> Void = { _ in }
    ) async throws -> TaskInfo {
        let deadline = ContinuousClock.now + timeout
        var task = try await getTask(id)
        onChange(task)
        while true {
            if task.state.isFinal { return task }
            if let user, let yours = TaskProgress(task, user: user).yourTurn {
                throw CloisterClientError(status: 0, code: "stuck", message: yours)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else {
                let waiting = TaskProgress(task, user: user ?? "").description
                throw CloisterClientError(
                    status: 0, code: "wait_timeout",
                    message: "task \(id) is still \(task.state.rawValue) after \(timeout.components.seconds) s" + (waiting.isEmpty ? "" : " (\(waiting))"))
            }
            let next = try await getTask(id, waitingUpTo: .seconds(max(1, min(30, left.components.seconds + 1))), whileStateIs: task.state)
            if next.state != task.state { onChange(next) }
            task = next
        }
    }
}
