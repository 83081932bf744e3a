import CloisterAPI
import Foundation
import ProtectedFiles
import SQLKit
import WAT
@testable import Platform

/// What the storage tests share: callers, functions, tasks made through the services directly (in
/// process, no HTTP), a WebAssembly function that writes an output, and a snapshot of every table.
enum StorageFixtures {
    static let admin = Caller(id: "admin", role: .platformAdmin)
    static let owner = Caller(id: "fo", role: .functionOwner)
    static let user = Caller(id: "mgr", role: .dataOwnerManager("x"))

    /// Registers the function owner `fo` and the data owner manager `mgr`.
    static func users(_ platform: Platform) async throws {
        _ = try await platform.accounts.register(admin, RegisterUserRequest(id: "fo", password: "password-1", role: "FunctionOwner"))
        _ = try await platform.accounts.register(admin, RegisterUserRequest(id: "mgr", password: "password-1", role: "DataOwnerManager-x"))
    }

    /// A public builtin-echo (argument `message`).
    static func echo(_ platform: Platform, quota: Int? = nil) async throws -> Function {
        try await platform.functions.register(owner, RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")],
            usageQuota: quota))
    }

    /// An entry-point WebAssembly function that writes its argument `message` to its output `out`
    /// and returns its length.
    static func writerModule() throws -> [UInt8] {
        try wat2wasm("""
            (module
              (import "env" "cloister_create_output" (func $create (param i32) (result i32)))
              (import "env" "cloister_write_file" (func $write (param i32 i32 i32) (result i32)))
              (import "env" "cloister_close_file" (func $close (param i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "out\\00")
              (func $strlen (param $p i32) (result i32) (local $n i32)
                (block $done
                  (loop $next
                    (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
                    (local.set $n (i32.add (local.get $n) (i32.const 1)))
                    (br $next)))
                (local.get $n))
              (func (export "entrypoint") (param $argc i32) (param $argv i32) (result i32)
                (local $fd i32) (local $message i32) (local $length i32)
                (local.set $message (i32.load (i32.add (local.get $argv) (i32.const 4))))
                (local.set $length (call $strlen (local.get $message)))
                (local.set $fd (call $create (i32.const 16)))
                (drop (call $write (local.get $fd) (local.get $message) (local.get $length)))
                (drop (call $close (local.get $fd)))
                (local.get $length)))
            """)
    }

    /// A public wasm function running ``writerModule()``, declaring the output `out`.
    static func writer(_ platform: Platform) async throws -> Function {
        try await platform.functions.register(owner, RegisterFunctionRequest(
            name: "writer", executorType: "wasm", payload: Data(try writerModule()).base64EncodedString(),
            arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hello")], outputs: [FunctionFileSpec(name: "out")]))
    }

    /// A new output of `mgr` (cloister-file-128), optionally at `url`; the output and its key.
    static func output(_ platform: Platform, url: String? = nil) async throws -> (file: DataFile, key: [UInt8]) {
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let file = try await platform.data.registerOutput(user, RegisterOutputRequest(url: url, scheme: "cloister-file-128", key: Hex.encode(key)))
        return (file, key)
    }

    /// A task of `function` by `mgr` (its only participant, so it is Approved once its output is
    /// assigned), writing to a new output; the task and the output.
    static func writerTask(_ platform: Platform, _ function: Function, message: String = "hello", url: String? = nil) async throws
        -> (task: TaskInfo, output: DataFile, key: [UInt8])
    {
        let (output, key) = try await self.output(platform, url: url)
        let task = try await platform.tasks.create(user, CreateTaskRequest(
            functionId: function.id, functionArguments: ["message": ArgumentValue(message)], executor: "wasmkit",
            outputsOwnership: ["out": ["mgr"]]))
        let assigned = try await platform.tasks.assignData(user, task.id, AssignDataRequest(outputs: ["out": output.id]))
        return (assigned, output, key)
    }

    /// Waits until `condition` holds (true) or `seconds` pass (false).
    static func eventually(within seconds: Double = 60, _ condition: () async throws -> Bool) async -> Bool {
        await poll(within: seconds, condition)
    }

    /// The plaintext of an output file written under `key`.
    static func decrypt(_ path: String, key: [UInt8]) throws -> String {
        let reader = try ProtectedFileReader(scheme: .cloisterFile128, key: key, input: try HostFile.openForReading(path))
        var plain: [UInt8] = []
        while let piece = try reader.read() { plain += piece }
        return String(decoding: plain, as: UTF8.self)
    }

    /// Every row of every table the platform writes, as text, in a stable order: two snapshots are
    /// equal exactly when nothing was written in between.
    static func snapshot(_ database: PlatformDatabase) async throws -> [String] {
        let tables: [(String, [String])] = [
            ("users", ["id", "version", "body"]), ("functions", ["id", "version", "body"]), ("payloads", ["function_id"]),
            ("files", ["id", "version", "body"]), ("file_owners", ["file_id", "user_id"]),
            ("tasks", ["id", "version", "state", "body", "worker", "attempt", "lease_until", "queued_at", "ended_at"]),
            ("task_participants", ["task_id", "user_id"]), ("audit", ["id", "action", "object", "decision", "detail"]),
            ("key_uses", ["fingerprint", "file_id"]), ("revoked_tokens", ["jti"]), ("platform_secrets", ["name", "value"]),
            ("workers", ["id"]),
        ]
        return try await database.read { sql in
            var lines: [String] = []
            for (table, columns) in tables {
                let rows = try await sql.select().columns(columns.map { SQLColumn($0) }).from(table).all()
                var texts: [String] = []
                for row in rows {
                    let values = columns.map { column -> String in
                        if let text = try? row.decode(column: column, as: String?.self) as String?? { return text ?? "null" }
                        if let number = try? row.decode(column: column, as: Int?.self) as Int?? { return number.map(String.init) ?? "null" }
                        return "?"
                    }
                    texts.append("\(table): " + values.joined(separator: " | "))
                }
                lines += texts.sorted()
            }
            return lines
        }
    }
}
