import CloisterAPI
import Crypto
import Executors
import Foundation
import ProtectedFiles
import SQLKit

/// Functions: registered by function owners, read by anyone they are visible to (public,
/// allowlisted, their owner, admins), changed by their owner or an admin.
public struct FunctionService: Sendable {
    let database: PlatformDatabase
    let audit: AuditLog
    /// The largest payload accepted, in bytes.
    let maxPayloadBytes: Int
    /// What is checked at registration rather than when a task runs.
    let early: EarlyValidation
    /// What the operator lets functions reach over the network.
    let network: FunctionNetworkPolicy

    public func register(_ caller: Caller, _ request: RegisterFunctionRequest) async throws -> Function {
        try await audit.call(user: caller.id, action: "function.register", created: { $0.id }, detail: Self.networkNote, prepare: { () async throws -> (FunctionRecord, [UInt8]) in
            guard caller.role.managesFunctions else {
                throw PlatformError.forbidden("a \(caller.role) may not register functions")
            }
            let type: ExecutorType
            do throws(ExecutorError) { type = try ExecutorType(parsing: request.executorType) } catch {
                throw PlatformError.field("executor_type", error.description)
            }
            try Validation.text(request.name, field: "name", limit: 128)
            let payload = try decodePayload(request.payload, type: type, name: request.name)
            let now = Date()
            var record = FunctionRecord(
                id: "function-" + UUID().uuidString.lowercased(), name: request.name,
                description: request.description ?? "", executorType: type.rawValue, payloadSize: payload.count,
                payloadSha256: Hex.encode(SHA256.hash(data: payload)),
                isPublic: request.public ?? true, arguments: request.arguments ?? [], inputs: request.inputs ?? [],
                outputs: request.outputs ?? [], userAllowlist: request.userAllowlist ?? [], usageQuota: request.usageQuota,
                owner: caller.id, disabled: false, invocations: 0, createdAt: now, updatedAt: now)
            record.network = try checkNetwork(request.network, type: type)
            try validate(&record)
            try await early.function(
                type: type, name: record.name, payload: payload, arguments: record.arguments, inputs: record.inputs,
                outputs: record.outputs, checkPayload: true)
            return (record, payload)
        }) { transaction, prepared in
            let (record, payload) = prepared
            try await transaction.sql.insert(into: "payloads").columns("function_id", "payload")
                .values(SQLBind(record.id), SQLBind(Data(payload))).run()
            _ = try await transaction.functions.insert(record)
            return record.api
        }
    }

    private func decodePayload(_ text: String?, type: ExecutorType, name: String) throws(PlatformError) -> [UInt8] {
        let payload: [UInt8]
        if let text, !text.isEmpty {
            guard text.utf8.count <= (maxPayloadBytes / 3 + 1) * 4 else {
                throw .field("payload", "larger than the limit of \(maxPayloadBytes) bytes")
            }
            guard let data = Data(base64Encoded: text) else { throw .field("payload", "is not valid base64") }
            payload = Array(data)
        } else {
            payload = []
        }
        switch type {
        case .builtin:
            guard payload.isEmpty else { throw .field("payload", "a builtin function takes no payload") }
            guard BuiltinExecutor.functionNames.contains(name) else {
                throw .field("name", "no builtin function \(Validation.quoted(name)); the builtins are \(BuiltinExecutor.functionNames.joined(separator: ", "))")
            }
        case .wasm:
            guard payload.starts(with: [0x00, 0x61, 0x73, 0x6D]) else {
                throw .field("payload", "is not a WebAssembly module (no \\0asm magic)")
            }
        case .python:
            guard !payload.isEmpty else { throw .field("payload", "a Python function needs its script") }
            guard String(validating: payload, as: UTF8.self) != nil else { throw .field("payload", "is not UTF-8 text") }
        }
        return payload
    }

    /// The network use `declared` by a function of `type` when it is one the operator allows (nil
    /// for none). Only WebAssembly functions have sockets: the Python runtime is built without
    /// them and builtins run natively, outside any sandbox's rules.
    private func checkNetwork(_ declared: FunctionNetwork?, type: ExecutorType) throws(PlatformError) -> FunctionNetwork? {
        guard let declared, !declared.isEmpty else { return nil }
        guard type == .wasm else {
            throw .field("network", "only wasm functions may use the network; a \(type.rawValue) function has no sockets")
        }
        _ = try network.rules(for: declared)
        return declared
    }

    private func validate(_ record: inout FunctionRecord) throws(PlatformError) {
        try Validation.text(record.description, field: "description", limit: 4096, allowEmpty: true)
        var keys = Set<String>()
        for (index, argument) in record.arguments.enumerated() {
            try Validation.identifier(argument.key, field: "arguments[\(index)].key")
            guard keys.insert(argument.key).inserted else { throw .field("arguments[\(index)].key", "\(argument.key) is given twice") }
            if let value = argument.defaultValue {
                try Validation.text(value, field: "arguments[\(index)].default_value", limit: 65536, allowEmpty: true)
            }
        }
        for (field, files) in [("inputs", record.inputs), ("outputs", record.outputs)] {
            var names = Set<String>()
            for (index, file) in files.enumerated() {
                try Validation.identifier(file.name, field: "\(field)[\(index)].name")
                guard names.insert(file.name).inserted else { throw .field("\(field)[\(index)].name", "\(file.name) is given twice") }
                if let description = file.description {
                    try Validation.text(description, field: "\(field)[\(index)].description", limit: 4096, allowEmpty: true)
                }
            }
        }
        guard record.userAllowlist.count <= 1000 else { throw .field("user_allowlist", "more than 1000 users") }
        for (index, user) in record.userAllowlist.enumerated() {
            try Validation.identifier(user, field: "user_allowlist[\(index)]")
        }
        if let quota = record.usageQuota, quota < 0 { throw .field("usage_quota", "must not be negative") }
    }

    /// The network use a registered or changed function declares, in its audit entry.
    @Sendable static func networkNote(_ function: Function) -> String? {
        function.network.map { "network use: " + $0.summary }
    }

    /// A function the caller may see, or 404.
    private static func visible(_ caller: Caller, _ id: String, _ record: FunctionRecord?) throws(PlatformError) -> FunctionRecord {
        guard let record, record.isVisible(to: caller) else { throw PlatformError.notFound("no function \(id)") }
        return record
    }

    /// A function the caller may change: 404 if it may not see it, 403 if it may only see it.
    private static func managed(_ caller: Caller, _ id: String, _ record: FunctionRecord?) throws(PlatformError) -> FunctionRecord {
        guard let record, record.isVisible(to: caller) || record.isManaged(by: caller) else {
            throw PlatformError.notFound("no function \(id)")
        }
        guard record.isManaged(by: caller) else { throw PlatformError.forbidden("only the owner of \(id) may change it") }
        return record
    }

    /// A function the caller may see. Its audit entry commits with the next durable write (a read
    /// changes nothing a caller is told about).
    public func get(_ caller: Caller, _ id: String) async throws -> Function {
        try await audit.call(user: caller.id, action: "function.get", object: id, durability: .deferred) { transaction in
            try Self.visible(caller, id, try await transaction.functions.get(id)).api
        }
    }

    public func list(_ caller: Caller) async throws -> [Function] {
        try await database.read { sql in try await RecordTable<FunctionRecord>(sql: sql).list() }.filter { $0.isVisible(to: caller) }.map(\.api)
    }

    public func update(_ caller: Caller, _ id: String, _ request: UpdateFunctionRequest) async throws -> Function {
        try await audit.call(user: caller.id, action: "function.update", object: id, detail: Self.networkNote, prepare: { () async throws -> (bytes: [UInt8], sha256: String)? in
            let current = try Self.managed(caller, id, try await database.record(FunctionRecord.self, id))
            let type = ExecutorType(rawValue: current.executorType)!
            var newPayload: [UInt8]?
            if let text = request.payload { newPayload = try decodePayload(text, type: type, name: request.name ?? current.name) }
            _ = try checkNetwork(request.network, type: type)
            if let name = request.name {
                try Validation.text(name, field: "name", limit: 128)
                if type == .builtin, !BuiltinExecutor.functionNames.contains(name) {
                    throw PlatformError.field("name", "no builtin function \(Validation.quoted(name))")
                }
            }
            try await early.function(
                type: type, name: request.name ?? current.name, payload: newPayload ?? [], arguments: request.arguments ?? current.arguments,
                inputs: request.inputs ?? current.inputs, outputs: request.outputs ?? current.outputs, checkPayload: newPayload != nil)
            return newPayload.map { ($0, Hex.encode(SHA256.hash(data: $0))) }
        }) { transaction, newPayload in
            _ = try Self.managed(caller, id, try await transaction.functions.get(id, lock: true))
            var failure: PlatformError?
            let written = try await transaction.functions.modify(id) { record in
                if let name = request.name { record.name = name }
                if let description = request.description { record.description = description }
                if let flag = request.public { record.isPublic = flag }
                if let arguments = request.arguments { record.arguments = arguments }
                if let inputs = request.inputs { record.inputs = inputs }
                if let outputs = request.outputs { record.outputs = outputs }
                if let allowlist = request.userAllowlist { record.userAllowlist = allowlist }
                if let quota = request.usageQuota { record.usageQuota = quota }
                if let network = request.network { record.network = network.isEmpty ? nil : network }
                if let payload = newPayload {
                    record.payloadSize = payload.bytes.count
                    record.payloadSha256 = payload.sha256
                }
                record.updatedAt = Date()
                do throws(PlatformError) { try validate(&record) } catch {
                    failure = error
                    return false
                }
                return true
            }
            if let failure { throw failure }
            guard let written else { throw PlatformError.notFound("no function \(id)") }
            if let payload = newPayload {
                try await transaction.sql.update("payloads").set("payload", to: Data(payload.bytes)).where("function_id", .equal, id).run()
            }
            return written.api
        }
    }

    public func delete(_ caller: Caller, _ id: String) async throws {
        try await audit.call(user: caller.id, action: "function.delete", object: id) { transaction in
            _ = try Self.managed(caller, id, try await transaction.functions.get(id, lock: true))
            try await transaction.functions.delete(id)
            try await transaction.sql.delete(from: "payloads").where("function_id", .equal, id).run()
        }
    }

    /// Disables a function: no new task may use it; tasks already created fail when invoked.
    public func disable(_ caller: Caller, _ id: String) async throws -> Function {
        try await audit.call(user: caller.id, action: "function.disable", object: id) { transaction in
            _ = try Self.managed(caller, id, try await transaction.functions.get(id, lock: true))
            guard let written = try await transaction.functions.modify(id, { record in
                record.disabled = true
                record.updatedAt = Date()
                return true
            }) else { throw PlatformError.notFound("no function \(id)") }
            return written.api
        }
    }

    public func usage(_ caller: Caller, _ id: String) async throws -> FunctionUsage {
        try await audit.call(user: caller.id, action: "function.usage", object: id, durability: .deferred) { transaction in
            let record = try Self.managed(caller, id, try await transaction.functions.get(id))
            let rows = try await transaction.sql.select().column("state").column(SQLFunction("COUNT", args: SQLLiteral.all), as: "count")
                .from("tasks").where("function_id", .equal, id).groupBy("state").all()
            var byState: [String: Int] = [:]
            for row in rows {
                byState[try row.decode(column: "state", as: String.self)] = try row.decode(column: "count", as: Int.self)
            }
            return FunctionUsage(
                functionId: id, invocations: record.invocations, usageQuota: record.usageQuota,
                remaining: record.usageQuota.map { max(0, $0 - record.invocations) }, tasksByState: byState)
        }
    }

    /// The payload of function `id` (for workers).
    func payload(of id: String) async throws -> [UInt8]? {
        try await database.read { sql in
            let statement = CachedStatement("payloads.get", on: sql, binds: [id]) { sql, values in
                sql.select().column("payload").from("payloads").where(SQLColumn("function_id"), .equal, values[0]).limit(1).query
            }
            guard let row = try await statement.rows(on: sql).first else { return nil }
            return Array(try row.decode(column: "payload", as: Data.self))
        }
    }
}
