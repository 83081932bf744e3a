import CloisterAPI
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Platform

/// The queue: oldest first, claims that never collide (row locks that skip locked rows on
/// PostgreSQL, the write lock on SQLite), capabilities and engines, leases taken over, results
/// recorded exactly once, and notifications between processes.
@Suite("Storage: the task queue")
struct TaskQueueTests {
    typealias F = StorageFixtures
    static let builtins = [WorkerCapability(executorType: "builtin", executor: "builtin", engine: nil)]

    /// `count` echo tasks invoked in order; their ids.
    static func queued(_ platform: Platform, _ count: Int) async throws -> [String] {
        let function = try await F.echo(platform)
        var ids: [String] = []
        for index in 0..<count {
            let task = try await platform.tasks.create(F.user, CreateTaskRequest(
                functionId: function.id, functionArguments: ["message": ArgumentValue("task \(index)")], executor: "builtin"))
            _ = try await platform.tasks.invoke(F.user, task.id)
            ids.append(task.id)
        }
        return ids
    }

    @Test("claims take the oldest task first; an empty queue answers nil")
    func oldestFirst() async throws {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let ids = try await Self.queued(server.platform, 5)
            // Oldest first by the database's clock, in milliseconds: two invokes of one
            // millisecond are in the order of their ids.
            let order = try await server.platform.database.read { sql in
                try await sql.select().column("id").column("queued_at").from("tasks").all().map {
                    (try $0.decode(column: "queued_at", as: Int.self), try $0.decode(column: "id", as: String.self))
                }
            }
            #expect(Set(order.map(\.1)) == Set(ids))
            let oldestFirst = order.sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }.map(\.1)
            let queue = TaskQueue(database: server.platform.database, lease: 60_000, maxAttempts: 3, signer: server.platform.identities.platform)
            var claimed: [String] = []
            while let task = try await queue.claim(worker: "w/0", capabilities: Self.builtins) { claimed.append(task.id) }
            #expect(claimed == oldestFirst)
            #expect(try await queue.claim(worker: "w/0", capabilities: Self.builtins) == nil)
        }
    }

    @Test("many workers claiming at once: every task is claimed exactly once")
    func concurrentClaims() async throws {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let ids = try await Self.queued(server.platform, 60)
            let queue = TaskQueue(database: server.platform.database, lease: 60_000, maxAttempts: 3, signer: server.platform.identities.platform)
            let claims = try await withThrowingTaskGroup(of: [String].self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        var mine: [String] = []
                        while let task = try await queue.claim(worker: "w\(worker)/0", capabilities: Self.builtins) { mine.append(task.id) }
                        return mine
                    }
                }
                return try await group.reduce(into: [String]()) { $0 += $1 }
            }
            #expect(claims.count == ids.count)
            #expect(Set(claims) == Set(ids))
            for id in ids { #expect(try await server.platform.database.record(TaskRecord.self, id)?.attempts == 1) }
        }
    }

    @Test("a worker claims only what its executors run, on its engine; a task that names an engine waits for a worker running it")
    func capabilities() async throws {
        try await TestServer.with(workers: 0) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            var byEngine: [String: String] = [:]
            for engine in ["wasmtime", "wasmkit", "any"] {
                let (output, _) = try await F.output(platform)
                let task = try await platform.tasks.create(F.user, CreateTaskRequest(
                    functionId: writer.id, executor: "wasmkit", outputsOwnership: ["out": ["mgr"]], engine: engine == "any" ? nil : engine))
                #expect(task.engine == (engine == "any" ? nil : engine))
                _ = try await platform.tasks.assignData(F.user, task.id, AssignDataRequest(outputs: ["out": output.id]))
                _ = try await platform.tasks.invoke(F.user, task.id)
                byEngine[engine] = task.id
            }
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            // A builtin-only worker takes none of them.
            #expect(try await queue.claim(worker: "b/0", capabilities: Self.builtins) == nil)
            // A WasmKit worker takes the task for WasmKit and the one for any engine, never the wasmtime one.
            let wasmkit = WorkerCapability.of(platform.configuration.registry, engine: .wasmkit)
            #expect(wasmkit.contains(WorkerCapability(executorType: "wasm", executor: "wasmkit", engine: "wasmkit")))
            var taken: Set<String> = []
            while let task = try await queue.claim(worker: "k/0", capabilities: wasmkit) { taken.insert(task.id) }
            #expect(taken == [byEngine["wasmkit"]!, byEngine["any"]!])
            let wasmtime = WorkerCapability.of(platform.configuration.registry, engine: .wasmtime)
            #expect(try await queue.claim(worker: "t/0", capabilities: wasmtime)?.id == byEngine["wasmtime"])
            // An engine is checked when the task is created.
            let echo = try await F.echo(platform)
            await #expect(throws: PlatformError.field("engine", "a builtin function runs natively; an engine applies to wasm and python functions")) {
                _ = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: echo.id, executor: "builtin", engine: "wasmtime"))
            }
            await #expect(throws: PlatformError.self) {
                _ = try await platform.tasks.create(F.user, CreateTaskRequest(
                    functionId: writer.id, executor: "wasmkit", outputsOwnership: ["out": ["mgr"]], engine: "v8"))
            }
        }
    }

    @Test("two workers race on one task after its lease ran out: only the holder of the current attempt records a result, once")
    func takenOverLease() async throws {
        try await TestServer.with(workers: 0, configure: { $0.workerHooks.settlesLeases = false }) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            let (task, output, _) = try await F.writerTask(platform, writer)
            _ = try await platform.tasks.invoke(F.user, task.id)
            let expired = TaskQueue(database: platform.database, lease: -1, maxAttempts: 3, signer: platform.identities.platform)
            let capabilities = WorkerCapability.of(platform.configuration.registry, engine: .wasmkit)
            let slow = try #require(try await expired.claim(worker: "slow/0", capabilities: capabilities))
            #expect(try await expired.recoverExpired() == 1)
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            let fast = try #require(try await queue.claim(worker: "fast/0", capabilities: capabilities))
            #expect(fast.attempts == 2)
            // Both finish at once; each offers its own tag.
            async let slowEnd = outcome {
                try await queue.complete(
                    task.id, worker: "slow/0", attempt: slow.attempts, result: TaskResult(returnValue: "slow", outputTags: ["out": "aa"], log: ""),
                    failure: nil, delivery: ["out": "\(task.id).1/output-out"])
            }
            async let fastEnd = outcome {
                try await queue.complete(
                    task.id, worker: "fast/0", attempt: fast.attempts, result: TaskResult(returnValue: "fast", outputTags: ["out": "bb"], log: ""),
                    failure: nil, delivery: ["out": "\(task.id).2/output-out"])
            }
            let (a, b) = await (slowEnd, fastEnd)
            #expect(throws: LeaseLost.self) { try a.get() }
            #expect(try b.get().state == .finished)
            let record = try #require(try await platform.database.record(TaskRecord.self, task.id))
            #expect(record.result?.returnValue == "fast")
            let file = try #require(try await platform.database.record(FileRecord.self, output.id))
            #expect(file.tag == "bb" && file.deliveredFrom == "\(task.id).2/output-out")
            let finished = try await platform.audit.entries(user: nil, object: task.id, limit: 100).filter { $0.detail == "Finished" }
            #expect(finished.count == 1)
        }
    }

    @Test("an output another task wrote first is never written again: the second task fails and its tag is not recorded")
    func outputWrittenOnce() async throws {
        try await TestServer.with(workers: 0) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            let (output, _) = try await F.output(platform)
            var ids: [String] = []
            for _ in 0..<2 {
                let task = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: writer.id, executor: "wasmkit", outputsOwnership: ["out": ["mgr"]]))
                _ = try await platform.tasks.assignData(F.user, task.id, AssignDataRequest(outputs: ["out": output.id]))
                _ = try await platform.tasks.invoke(F.user, task.id)
                ids.append(task.id)
            }
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            let capabilities = WorkerCapability.of(platform.configuration.registry, engine: .wasmkit)
            let first = try #require(try await queue.claim(worker: "w/0", capabilities: capabilities))
            let second = try #require(try await queue.claim(worker: "w/1", capabilities: capabilities))
            let one = try await queue.complete(
                first.id, worker: "w/0", attempt: 1, result: TaskResult(returnValue: "1", outputTags: ["out": "11"], log: ""), failure: nil,
                delivery: ["out": "a"])
            let two = try await queue.complete(
                second.id, worker: "w/1", attempt: 1, result: TaskResult(returnValue: "2", outputTags: ["out": "22"], log: ""), failure: nil,
                delivery: ["out": "b"])
            #expect(one.state == .finished)
            #expect(two.state == .failed && two.reason == "output out: it was written by another task first; nothing was replaced")
            #expect(two.result?.outputTags == [:])
            #expect(try await platform.database.record(FileRecord.self, output.id)?.tag == "11")
        }
    }

    @Test("a committed event reaches the other processes' subscribers (LISTEN/NOTIFY), and only once it commits",
          .enabled(if: TestDatabase.isPostgres, "notifications between processes are PostgreSQL's"))
    func notifications() async throws {
        try await TestServer.with(workers: 0) { server in
            guard case .postgres = server.platform.configuration.database else { return }
            let other = try await PlatformDatabase.open(server.platform.configuration.database)
            let heard = EventLog()
            let subscription = other.subscribe { heard.append($0) }
            defer { other.unsubscribe(subscription) }
            // The listener is connected once it delivered its own first wake-up.
            #expect(await F.eventually { heard.events.contains(.queued) })
            heard.clear()
            await #expect(throws: InjectedFailure.self) {
                try await server.platform.database.write("test") { transaction in
                    try await transaction.publish(.canceled(taskId: "rolled-back"))
                    throw InjectedFailure(label: "test", statement: 0)
                }
            }
            try await server.platform.database.write("test") { transaction in try await transaction.publish(.canceled(taskId: "committed")) }
            #expect(await F.eventually { heard.events.contains(.canceled(taskId: "committed")) })
            #expect(!heard.events.contains(.canceled(taskId: "rolled-back")))
            try await other.shutdown()
        }
    }
}

/// Events heard by a subscriber.
final class EventLog: Sendable {
    private let state = Mutex<[StoreEvent]>([])
    func append(_ event: StoreEvent) { state.withLock { $0.append(event) } }
    func clear() { state.withLock { $0 = [] } }
    var events: [StoreEvent] { state.withLock { $0 } }
}

/// What `body` returned or threw.
func outcome<T: Sendable>(_ body: @Sendable () async throws -> T) async -> Result<T, any Error> {
    do { return .success(try await body()) } catch { return .failure(error) }
}
