import CloisterAPI
import Executors
import Foundation
import LibOS
import SQLKit

/// Tasks: created by a data owner over a function it may use, given data by the owners of each
/// declared file, approved by every participant, invoked by the creator, run by a worker.
///
/// A task is visible to its participants only; to anyone else it does not exist (404).
///
/// Each call is one transaction (`AuditLog.call`); every change of a task goes through
/// `TaskLifecycle.apply`.
public struct TaskService: Sendable {
    let database: PlatformDatabase
    let audit: AuditLog
    /// The platform's key: it signs the receipt of a task canceled (before or while it runs).
    let signer: SigningIdentity

    public func create(_ caller: Caller, _ request: CreateTaskRequest) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.create", object: request.functionId, created: { $0.id }, detail: Self.networkNote) { transaction in
            guard caller.role.usesData else { throw PlatformError.forbidden("a \(caller.role) may not create tasks") }
            guard let function = try await transaction.functions.get(request.functionId),
                function.isPublic || function.userAllowlist.contains(caller.id)
            else { throw PlatformError.notFound("no function \(request.functionId)") }
            guard !function.disabled else { throw PlatformError.conflict("function \(function.id) is disabled") }
            let type = ExecutorType(rawValue: function.executorType)!
            let executor: Executor
            do throws(ExecutorError) { executor = try Executor(parsing: request.executor) } catch {
                throw PlatformError.field("executor", error.description)
            }
            guard executor.runs == type else {
                let valid = Executor.running(type).map(\.rawValue).joined(separator: " or ")
                throw PlatformError.field("executor", "a \(type.rawValue) function runs on \(valid), not \(executor.rawValue)")
            }
            if let engine = request.engine {
                guard EngineKind(rawValue: engine) != nil else {
                    throw PlatformError.field(
                        "engine", "unknown engine \(Validation.quoted(engine)); expected one of: \(EngineKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                guard type != .builtin else { throw PlatformError.field("engine", "a builtin function runs natively; an engine applies to wasm and python functions") }
            }
            let arguments = try Self.arguments(request.functionArguments ?? [:], of: function)
            let inputs = try Self.ownership(request.inputsOwnership ?? [:], declared: function.inputs, field: "inputs_ownership")
            let outputs = try Self.ownership(request.outputsOwnership ?? [:], declared: function.outputs, field: "outputs_ownership")
            for (field, ownership) in [("inputs_ownership", inputs), ("outputs_ownership", outputs)] {
                for (name, owners) in ownership.sorted(by: { $0.key < $1.key }) {
                    // A misspelled owner is found now, not after everyone else approved.
                    try await EarlyValidation.dataOwners(owners, in: transaction.users) { _ in "\(field).\(name)" }
                }
            }
            var participants = Set(inputs.values.joined()).union(outputs.values.joined())
            participants.insert(caller.id)
            if !function.isPublic { participants.insert(function.owner) }
            let now = Date()
            var record = TaskRecord(
                id: "task-" + UUID().uuidString.lowercased(), functionId: function.id, functionOwner: function.owner,
                functionName: function.name, payloadSha256: function.payloadSha256, executorType: function.executorType, creator: caller.id,
                executor: executor.rawValue, functionArguments: arguments, inputsOwnership: inputs, outputsOwnership: outputs,
                participants: participants.sorted(), approvedBy: participants == [caller.id] ? [caller.id] : [],
                assignedInputs: [:], assignedOutputs: [:], state: .created, result: nil, reason: nil,
                createdAt: now, updatedAt: now)
            record.engine = request.engine
            record.network = function.network
            if record.approvedBy == [caller.id] { record.approvedAt = [caller.id: now] }
            record.advance()
            return try await TaskLifecycle.apply(.created(record), to: record.id, in: transaction).api
        }
    }

    /// The function's arguments for a task: exactly the overwritable ones may be given; the rest
    /// (and any overwritable one not given) take their defaults.
    static func arguments(_ given: [String: ArgumentValue], of function: FunctionRecord) throws(PlatformError) -> [String: String] {
        var result: [String: String] = [:]
        for key in given.keys.sorted() {
            guard let spec = function.arguments.first(where: { $0.key == key }) else {
                throw .field("function_arguments.\(key)", "the function takes no argument \(key)")
            }
            guard spec.allowOverwrite else { throw .field("function_arguments.\(key)", "the function does not let a task set \(key)") }
            try Validation.text(given[key]!.text, field: "function_arguments.\(key)", limit: 65536, allowEmpty: true)
            result[key] = given[key]!.text
        }
        for spec in function.arguments where result[spec.key] == nil {
            guard let value = spec.defaultValue else {
                throw .field("function_arguments.\(spec.key)", "required: the function gives it no default")
            }
            result[spec.key] = value
        }
        return result
    }

    /// The owners of each declared file: every required file named, no undeclared name.
    static func ownership(_ given: [String: [String]], declared: [FunctionFileSpec], field: String) throws(PlatformError) -> [String: [String]] {
        for name in given.keys.sorted() where !declared.contains(where: { $0.name == name }) {
            throw .field("\(field).\(name)", "the function declares no file \(name)")
        }
        var result: [String: [String]] = [:]
        for spec in declared {
            guard let owners = given[spec.name] else {
                if spec.optional { continue }
                throw .field("\(field).\(spec.name)", "required: name the owners of \(spec.name)")
            }
            guard !owners.isEmpty, owners.count <= 100 else { throw .field("\(field).\(spec.name)", "must list 1 to 100 owners") }
            for owner in owners { try Validation.identifier(owner, field: "\(field).\(spec.name)") }
            result[spec.name] = Array(Set(owners)).sorted()
        }
        return result
    }

    /// A task the caller takes part in, or 404.
    private static func participating(_ caller: Caller, _ id: String, in transaction: Transaction) async throws -> TaskRecord {
        guard let record = try await transaction.tasks.get(id), record.participants.contains(caller.id) else {
            throw PlatformError.notFound("no task \(id)")
        }
        return record
    }

    public func assignData(_ caller: Caller, _ id: String, _ request: AssignDataRequest) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.assign_data", object: id) { transaction in
            let task = try await Self.participating(caller, id, in: transaction)
            var inputs: [String: String] = [:]
            var outputs: [String: String] = [:]
            for (kind, field, given, ownership) in [
                (FileRecord.Kind.input, "inputs", request.inputs ?? [:], task.inputsOwnership),
                (.output, "outputs", request.outputs ?? [:], task.outputsOwnership),
            ] {
                for (name, fileId) in given.sorted(by: { $0.key < $1.key }) {
                    guard let owners = ownership[name] else {
                        throw PlatformError.field("\(field).\(name)", "the task has no \(kind.rawValue) \(name)")
                    }
                    guard owners.contains(caller.id) else {
                        throw PlatformError.forbidden("only an owner of \(kind.rawValue) \(name) (\(owners.joined(separator: ", "))) may assign it")
                    }
                    guard let file = try await transaction.files.get(fileId), file.kind == kind, file.owners.contains(caller.id) else {
                        throw PlatformError.notFound("no \(kind.rawValue) file \(fileId)")
                    }
                    guard file.owners.sorted() == owners else {
                        throw PlatformError.forbidden(
                            "the owners of \(fileId) (\(file.owners.sorted().joined(separator: ", "))) are not the declared owners of \(kind.rawValue) \(name) (\(owners.joined(separator: ", ")))")
                    }
                    if kind == .output, file.tag != nil { throw PlatformError.conflict("output \(fileId) has been written already") }
                    if kind == .input { inputs[name] = file.id } else { outputs[name] = file.id }
                }
            }
            return try await TaskLifecycle.apply(.dataAssigned(by: caller.id, inputs: inputs, outputs: outputs), to: id, in: transaction).api
        }
    }

    public func approve(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.approve", object: id, detail: Self.networkNote) { transaction in
            _ = try await Self.participating(caller, id, in: transaction)
            return try await TaskLifecycle.apply(.approved(by: caller.id), to: id, in: transaction).api
        }
    }

    /// What an approval (or a creator's own, at creation) covers beyond the function's code: its
    /// network use, in the audit entry's detail.
    @Sendable static func networkNote(_ task: TaskInfo) -> String? {
        task.network.map { "approves network use: " + $0.summary }
    }

    /// Queues the task: its state is checked, the function's quota charged and the task moved to
    /// `Staged` in one transaction, so of concurrent invokes exactly one succeeds and the quota is
    /// charged once.
    public func invoke(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.invoke", object: id) { transaction in
            let task = try await Self.participating(caller, id, in: transaction)
            guard task.creator == caller.id else { throw PlatformError.forbidden("only the creator of \(id) may invoke it") }
            return try await TaskLifecycle.apply(.invoked(by: caller.id), to: id, in: transaction).api
        }
    }

    /// A task the caller takes part in. Its audit entry commits with the next durable write (a
    /// read changes nothing a caller is told about).
    public func get(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.get", object: id, durability: .deferred) { transaction in
            try await Self.participating(caller, id, in: transaction).api
        }
    }

    /// The longest a call may wait for a task to change (``get(_:_:waitingUpTo:whileStateIn:)``).
    public static let longestWait: Duration = .seconds(30)

    /// A long poll: the task once its state is none of `seen` (by default the state it has when
    /// asked) or is final, or after `wait` — so that a client following a task asks once per change
    /// instead of polling, or, given every state it does not care to see (`Staged` and `Running`),
    /// once for the whole run. The call is checked and audited once, like ``get(_:_:)``; it then wakes
    /// on the task's `changed` events (from any process on PostgreSQL) and looks again at least
    /// every `recheck` (a `cloister worker` beside the server on SQLite tells it nothing).
    public func get(
        _ caller: Caller, _ id: String, waitingUpTo wait: Duration, whileStateIn seen: Set<TaskState> = [], recheck: Duration = .milliseconds(500)
    ) async throws -> TaskInfo {
        let signal = WakeSignal()
        let subscription = database.subscribe { event in
            if case .changed(let changed) = event, changed == id { signal.signal() }
        }
        defer { database.unsubscribe(subscription) }
        var task = try await get(caller, id)
        let seen = seen.isEmpty ? [task.state] : seen
        let deadline = ContinuousClock.now + min(wait, Self.longestWait)
        while seen.contains(task.state), !task.state.isFinal, !Task.isCancelled {
            let left = deadline - ContinuousClock.now
            guard left > .zero else { break }
            await signal.wait(timeout: min(left, recheck))
            guard let record = try await database.record(TaskRecord.self, id) else { break }
            task = record.api
        }
        return task
    }

    public func list(_ caller: Caller) async throws -> [TaskInfo] {
        try await database.read { sql in
            let ids = try await sql.select().column("task_id").from("task_participants").where("user_id", .equal, caller.id)
                .all(decodingColumn: "task_id", as: String.self)
            return try await RecordTable<TaskRecord>(sql: sql).list(ids: ids).map(\.api)
        }
    }

    /// Cancels a task that has not ended (the creator or an admin); a running task is stopped (by
    /// the worker that runs it, which hears of the cancel when it commits).
    public func cancel(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.cancel", object: id) { transaction in
            guard let task = try await transaction.tasks.get(id), task.participants.contains(caller.id) || caller.isAdmin else {
                throw PlatformError.notFound("no task \(id)")
            }
            guard task.creator == caller.id || caller.isAdmin else {
                throw PlatformError.forbidden("only the creator of \(id) or an admin may cancel it")
            }
            return try await TaskLifecycle.apply(.canceled(by: caller.id, signer: signer), to: id, in: transaction).api
        }
    }

    /// Declines a task: any participant says no (even after approving) before it is invoked.
    /// The task is `Canceled` with the reason `declined by <user>`, like a cancel by its creator;
    /// once invoked, only its creator or an admin can stop it (`cancel`).
    public func decline(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.call(user: caller.id, action: "task.decline", object: id) { transaction in
            _ = try await Self.participating(caller, id, in: transaction)
            return try await TaskLifecycle.apply(.declined(by: caller.id, signer: signer), to: id, in: transaction).api
        }
    }

    /// The signed receipt of a task that ended, as issued (docs/receipts.md): to its participants
    /// only (anyone else gets the same 404 as for a task they cannot see); a task that has not
    /// ended has none yet (409). Its audit entry commits with the next durable write.
    public func receipt(_ caller: Caller, _ id: String) async throws -> [UInt8] {
        try await audit.call(user: caller.id, action: "task.receipt", object: id, durability: .deferred) { transaction in
            let task = try await Self.participating(caller, id, in: transaction)
            guard let document = try await transaction.sql.select().column("document").from("receipts").where("task_id", .equal, id)
                .first(decodingColumn: "document", as: String.self)
            else {
                throw PlatformError.conflict("task \(id) is \(task.state.rawValue); its receipt is issued when it ends")
            }
            return Array(document.utf8)
        }
    }
}
