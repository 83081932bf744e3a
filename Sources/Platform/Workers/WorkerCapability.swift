import Executors
import Foundation
import LibOS
import SQLKit

/// One kind of task a worker runs: an (executor type, executor) pair, and for the pairs that run
/// WebAssembly (`wasm`, `python`) the engine they run it on. A worker claims only tasks that one of
/// its capabilities runs: the pair must match, and a task that asks for an engine needs that engine.
public struct WorkerCapability: Codable, Sendable, Hashable, CustomStringConvertible {
    public var executorType: String
    public var executor: String
    /// `wasmtime` or `wasmkit`; nil for the builtins, which run natively.
    public var engine: String?

    public init(executorType: String, executor: String, engine: String?) {
        self.executorType = executorType
        self.executor = executor
        self.engine = engine
    }

    public var description: String { "\(executorType)/\(executor)" + (engine.map { "@" + $0 } ?? "") }

    /// The capabilities of a worker with `registry` whose sandboxes run on `engine`.
    static func of(_ registry: ExecutorRegistry, engine: EngineKind) -> [WorkerCapability] {
        var result: [WorkerCapability] = []
        for type in ExecutorType.allCases {
            for executor in Executor.allCases where registry.isRegistered(type: type, executor: executor) {
                result.append(WorkerCapability(
                    executorType: type.rawValue, executor: executor.rawValue, engine: type == .builtin ? nil : engine.rawValue))
            }
        }
        return result
    }

    /// The engine a process's sandboxes run on: the one configured, else `CLOISTER_ENGINE`, else
    /// wasmtime when its library loads, else WasmKit (as the LibOS chooses).
    static func effectiveEngine(configured: EngineKind?) -> EngineKind {
        if let configured { return configured }
        if let name = ProcessInfo.processInfo.environment["CLOISTER_ENGINE"], let kind = EngineKind(rawValue: name) { return kind }
        return EngineSelection.defaultKind
    }

    /// The tasks any of `capabilities` runs, as a condition on the tasks table.
    static func filter(_ capabilities: [WorkerCapability]) -> any SQLExpression {
        let alternatives: [any SQLExpression] = capabilities.map { capability in
            var condition: any SQLExpression = SQLBinaryExpression(
                SQLBinaryExpression(SQLColumn("executor_type"), .equal, SQLBind(capability.executorType)), .and,
                SQLBinaryExpression(SQLColumn("executor"), .equal, SQLBind(capability.executor)))
            let anyEngine = SQLBinaryExpression(SQLColumn("engine"), .is, SQLLiteral.null)
            if let engine = capability.engine {
                condition = SQLBinaryExpression(
                    condition, .and,
                    SQLGroupExpression(SQLBinaryExpression(anyEngine, .or, SQLBinaryExpression(SQLColumn("engine"), .equal, SQLBind(engine)))))
            } else {
                condition = SQLBinaryExpression(condition, .and, anyEngine)
            }
            return SQLGroupExpression(condition)
        }
        return SQLGroupExpression(SQLList(alternatives, separator: SQLRaw(" OR ")))
    }
}

/// The worker pools alive, in the `workers` table: each pool writes its row when it starts (what it
/// runs, how many slots), renews `seen_at` while it runs and removes it when it stops. The metrics
/// count the pools seen recently.
struct WorkerDirectory: Sendable {
    let database: PlatformDatabase

    func register(id: String, slots: Int, capabilities: [WorkerCapability], keyId: String) async throws {
        let text = String(decoding: try JSONEncoder.records.encode(capabilities), as: UTF8.self)
        try await database.write("worker.register") { transaction in
            try await transaction.sql.delete(from: "workers").where("id", .equal, id).run()
            try await transaction.sql.insert(into: "workers")
                .columns("id", "host", "pid", "slots", "capabilities", "started_at", "seen_at", "key_id")
                .values(
                    SQLBind(id), SQLBind(ProcessInfo.processInfo.hostName), SQLBind(Int(getpid())), SQLBind(slots), SQLBind(text),
                    DatabaseNow(), DatabaseNow(), SQLBind(keyId))
                .run()
        }
    }

    /// Renews the pool's `seen_at`, and forgets pools not seen for `forgetAfter` milliseconds.
    func touch(id: String, forgetAfter: Int) async throws {
        try await database.write("worker.touch", durability: .deferred) { transaction in
            try await transaction.sql.update("workers").set("seen_at", to: DatabaseNow()).where("id", .equal, id).run()
            // Skipping rows another transaction holds: a pool stopped inside its own touch must
            // not stall the others' (nor their recovery of lost tasks, which runs in the same loop).
            try await transaction.sql.raw("""
                DELETE FROM workers WHERE id IN (SELECT id FROM workers WHERE seen_at < \(DatabaseNow(offset: -forgetAfter)) \(LockForUpdate(skipLocked: true)))
                """).run()
        }
    }

    func remove(id: String) async throws {
        try await database.write("worker.remove") { transaction in
            try await transaction.sql.delete(from: "workers").where("id", .equal, id).run()
        }
    }
}
