import CloisterAPI
import Executors
import Foundation
import SQLKit

/// Tasks: created by a data owner over a function it may use, given data by the owners of each
/// declared file, approved by every participant, invoked by the creator, run by a worker.
///
/// A task is visible to its participants only; to anyone else it does not exist (404).
public struct TaskService: Sendable {
    let tasks: RecordTable<TaskRecord>
    let functions: RecordTable<FunctionRecord>
    let files: RecordTable<FileRecord>
    let audit: AuditLog
    let sql: any SQLDatabase
    /// Called when a task is queued (wakes the in-process workers).
    let onQueued: @Sendable () -> Void
    /// Called when a task is canceled (stops it if it runs in this process).
    let onCanceled: @Sendable (String) -> Void

    public func create(_ caller: Caller, _ request: CreateTaskRequest) async throws -> TaskInfo {
        try await audit.decision(user: caller.id, action: "task.create", object: request.functionId, created: { $0.id }) {
            guard caller.role.usesData else { throw PlatformError.forbidden("a \(caller.role) may not create tasks") }
            guard let function = try await functions.get(request.functionId),
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
            let arguments = try Self.arguments(request.functionArguments ?? [:], of: function)
            let inputs = try Self.ownership(request.inputsOwnership ?? [:], declared: function.inputs, field: "inputs_ownership")
            let outputs = try Self.ownership(request.outputsOwnership ?? [:], declared: function.outputs, field: "outputs_ownership")
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
            record.advance()
            _ = try await tasks.insert(record)
            for user in record.participants {
                try await sql.insert(into: "task_participants").columns("task_id", "user_id")
                    .values(SQLBind(record.id), SQLBind(user)).run()
            }
            await audit.record(user: caller.id, action: "task.state", object: record.id, allowed: true, detail: record.state.rawValue)
            return record.api
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
    private func participating(_ caller: Caller, _ id: String) async throws -> TaskRecord {
        guard let record = try await tasks.get(id), record.participants.contains(caller.id) else {
            throw PlatformError.notFound("no task \(id)")
        }
        return record
    }

    /// Applies `change` to the task (again if another writer came first) and records the new state.
    private func change(_ caller: Caller, _ id: String, _ body: (inout TaskRecord) throws -> Void) async throws -> TaskRecord {
        var failure: (any Error)?
        let before = try await tasks.get(id)?.state
        guard let written = try await tasks.modify(id, { record in
            do {
                try body(&record)
                return true
            } catch {
                failure = error
                return false
            }
        }) else { throw PlatformError.notFound("no task \(id)") }
        if let failure { throw failure }
        if written.state != before {
            await audit.record(user: caller.id, action: "task.state", object: id, allowed: true, detail: written.state.rawValue)
        }
        return written
    }

    public func assignData(_ caller: Caller, _ id: String, _ request: AssignDataRequest) async throws -> TaskInfo {
        try await audit.decision(user: caller.id, action: "task.assign_data", object: id) {
            let task = try await participating(caller, id)
            var chosen: [(kind: FileRecord.Kind, name: String, file: FileRecord)] = []
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
                    guard let file = try await files.get(fileId), file.kind == kind, file.owners.contains(caller.id) else {
                        throw PlatformError.notFound("no \(kind.rawValue) file \(fileId)")
                    }
                    guard file.owners.sorted() == owners else {
                        throw PlatformError.forbidden(
                            "the owners of \(fileId) (\(file.owners.sorted().joined(separator: ", "))) are not the declared owners of \(kind.rawValue) \(name) (\(owners.joined(separator: ", ")))")
                    }
                    if kind == .output, file.tag != nil { throw PlatformError.conflict("output \(fileId) has been written already") }
                    chosen.append((kind, name, file))
                }
            }
            return try await change(caller, id) { record in
                guard record.state == .created else {
                    throw PlatformError.conflict("task \(id) is \(record.state.rawValue); it cannot take data")
                }
                for (kind, name, file) in chosen {
                    if kind == .input { record.assignedInputs[name] = file.id } else { record.assignedOutputs[name] = file.id }
                }
                record.advance()
            }.api
        }
    }

    public func approve(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.decision(user: caller.id, action: "task.approve", object: id) {
            _ = try await participating(caller, id)
            return try await change(caller, id) { record in
                guard record.state == .dataAssigned else {
                    throw PlatformError.conflict("task \(id) is \(record.state.rawValue); it cannot be approved")
                }
                guard !record.approvedBy.contains(caller.id) else {
                    throw PlatformError.conflict("\(caller.id) has approved task \(id) already")
                }
                record.approvedBy.append(caller.id)
                record.advance()
            }.api
        }
    }

    public func invoke(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        let info = try await audit.decision(user: caller.id, action: "task.invoke", object: id) {
            let task = try await participating(caller, id)
            guard task.creator == caller.id else { throw PlatformError.forbidden("only the creator of \(id) may invoke it") }
            guard task.state == .approved else {
                throw PlatformError.conflict("task \(id) is \(task.state.rawValue); it cannot be invoked")
            }
            var failure: PlatformError?
            let function = try await functions.modify(task.functionId) { function in
                if function.disabled {
                    failure = .conflict("function \(function.id) is disabled")
                    return false
                }
                if let quota = function.usageQuota, function.invocations >= quota {
                    failure = .quotaExceeded("function \(function.id) has used its quota of \(quota) invocations")
                    return false
                }
                function.invocations += 1
                return true
            }
            if let failure { throw failure }
            guard function != nil else { throw PlatformError.conflict("function \(task.functionId) was deleted") }
            do {
                // The state is checked again inside the compare-and-swap: between the read above
                // and this write another invoke may have queued the task and a worker claimed it,
                // and Running → Staged is a move the state machine allows (a lost worker's retry).
                return try await change(caller, id) { record in
                    guard record.state == .approved else {
                        throw PlatformError.conflict("task \(id) is \(record.state.rawValue); it cannot be invoked")
                    }
                    try record.move(to: .staged, for: "be invoked")
                    record.queuedAt = Date()
                }.api
            } catch {
                // Another call moved the task first: give the invocation back.
                _ = try await functions.modify(task.functionId) { function in
                    function.invocations -= 1
                    return true
                }
                throw error
            }
        }
        onQueued()
        return info
    }

    public func get(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        try await audit.decision(user: caller.id, action: "task.get", object: id) { try await participating(caller, id).api }
    }

    public func list(_ caller: Caller) async throws -> [TaskInfo] {
        let ids = try await sql.select().column("task_id").from("task_participants").where("user_id", .equal, caller.id)
            .all(decodingColumn: "task_id", as: String.self)
        return try await tasks.list(ids: ids).map(\.api)
    }

    /// Cancels a task that has not ended (the creator or an admin); a running task is stopped.
    public func cancel(_ caller: Caller, _ id: String) async throws -> TaskInfo {
        let info = try await audit.decision(user: caller.id, action: "task.cancel", object: id) {
            guard let task = try await tasks.get(id), task.participants.contains(caller.id) || caller.isAdmin else {
                throw PlatformError.notFound("no task \(id)")
            }
            guard task.creator == caller.id || caller.isAdmin else {
                throw PlatformError.forbidden("only the creator of \(id) or an admin may cancel it")
            }
            return try await change(caller, id) { record in
                try record.move(to: .canceled, for: "be canceled")
                record.reason = "canceled by \(caller.id)"
            }.api
        }
        onCanceled(id)
        return info
    }
}
