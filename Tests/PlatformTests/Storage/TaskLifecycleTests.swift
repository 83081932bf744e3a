import CloisterAPI
import Foundation
import ProtectedFiles
import SQLKit
import Testing
@testable import Platform

/// The task state machine and `TaskLifecycle.apply`, the one place a task changes: every move
/// writes the state, its audit entry and its side rows in one transaction, and every refused move
/// writes nothing.
@Suite("Storage: the task lifecycle")
struct TaskLifecycleTests {
    typealias F = StorageFixtures

    @Test("exactly the documented moves are allowed, and nothing leaves a final state")
    func stateMachine() {
        let allowed: Set<String> = [
            "Created>DataAssigned", "DataAssigned>Approved", "Approved>Staged", "Staged>Running", "Running>Finished", "Running>Failed",
            "Running>Staged", "Created>Canceled", "DataAssigned>Canceled", "Approved>Canceled", "Staged>Canceled", "Running>Canceled",
        ]
        for from in TaskState.allCases {
            for to in TaskState.allCases {
                #expect(from.canMove(to: to) == allowed.contains("\(from.rawValue)>\(to.rawValue)"), "\(from.rawValue) → \(to.rawValue)")
            }
        }
        for state in [TaskState.finished, .failed, .canceled] {
            #expect(TaskState.allCases.allSatisfy { !state.canMove(to: $0) })
        }
    }

    /// The `task.state` audit entries of `task`, oldest first.
    static func stateEntries(_ platform: Platform, _ task: String) async throws -> [String] {
        try await platform.audit.entries(user: nil, object: task, limit: 100).filter { $0.action == "task.state" }.reversed().map(\.detail)
    }

    @Test("a run through every state: each move writes the state, its audit entry and its side rows together")
    func happyPath() async throws {
        try await TestServer.with(workers: 0) { server in
            let platform = server.platform
            try await F.users(platform)
            let function = try await F.writer(platform)
            let (output, _) = try await F.output(platform)
            var task = try await platform.tasks.create(F.user, CreateTaskRequest(
                functionId: function.id, executor: "wasmkit", outputsOwnership: ["out": ["mgr"]]))
            #expect(task.state == .created)
            let id = task.id
            let participants = try await platform.database.read { sql in
                try await sql.select().column("user_id").from("task_participants").where("task_id", .equal, id)
                    .all(decodingColumn: "user_id", as: String.self)
            }
            #expect(participants == ["mgr"])
            // Assigning the last file passes DataAssigned and (one participant) Approved in one call.
            task = try await platform.tasks.assignData(F.user, task.id, AssignDataRequest(outputs: ["out": output.id]))
            #expect(task.state == .approved)
            task = try await platform.tasks.invoke(F.user, task.id)
            #expect(task.state == .staged)
            #expect(try await platform.database.record(FunctionRecord.self, function.id)?.invocations == 1)
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            let everything = WorkerCapability.of(platform.configuration.registry, engine: .wasmkit)
            let claimed = try #require(try await queue.claim(worker: "w/0", capabilities: everything))
            #expect(claimed.id == task.id && claimed.state == .running && claimed.attempts == 1 && claimed.worker == "w/0")
            let lease = try await platform.database.read { sql in
                try await sql.select().column("lease_until").from("tasks").where("id", .equal, id)
                    .first(decodingColumn: "lease_until", as: Int?.self)
            }
            #expect(lease != nil)
            let result = TaskResult(returnValue: "5", outputTags: ["out": "ab12"], log: "")
            let finished = try await queue.complete(task.id, worker: "w/0", attempt: 1, result: result, failure: nil, delivery: ["out": "x.1/output-out"])
            #expect(finished.state == .finished)
            let file = try #require(try await platform.database.record(FileRecord.self, output.id))
            #expect(file.tag == "ab12" && file.deliveredFrom == "x.1/output-out")
            #expect(try await Self.stateEntries(platform, task.id) == ["Created", "Approved", "Staged", "Running on w/0", "Finished"])
            let ended = try await platform.database.read { sql in
                try await sql.select().columns("lease_until", "ended_at").from("tasks").where("id", .equal, id).first()
            }
            #expect(try ended?.decode(column: "lease_until", as: Int?.self) == nil)
            #expect(try ended?.decode(column: "ended_at", as: Int?.self) != nil)
        }
    }

    @Test("refused moves write nothing: a second approval, invoking twice, claiming a task not staged, completing another's attempt, canceling a final task")
    func refusalsWriteNothing() async throws {
        try await TestServer.with(workers: 0) { server in
            let platform = server.platform
            try await F.users(platform)
            _ = try await platform.accounts.register(F.admin, RegisterUserRequest(id: "other", password: "password-1", role: "DataOwnerManager-x"))
            let other = Caller(id: "other", role: .dataOwnerManager("x"))
            let function = try await platform.functions.register(F.owner, RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", public: false, arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")],
                userAllowlist: ["mgr"]))
            let task = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: function.id, executor: "builtin"))
            #expect(task.state == .dataAssigned)  // the function owner must approve too
            _ = try await platform.tasks.approve(F.user, task.id)

            func refused(_ body: () async throws -> Void) async throws {
                let before = try await StorageFixtures.snapshot(platform.database)
                await #expect(throws: (any Error).self) { try await body() }
                let after = try await StorageFixtures.snapshot(platform.database)
                // Only the denial's own audit entry is new.
                let added = after.filter { !before.contains($0) }
                #expect(added.allSatisfy { $0.hasPrefix("audit: ") && $0.contains("denied") }, "\(added)")
                #expect(before.allSatisfy { after.contains($0) })
            }
            try await refused { _ = try await platform.tasks.approve(F.user, task.id) }
            try await refused { _ = try await platform.tasks.invoke(F.user, task.id) }  // not Approved yet
            try await refused { _ = try await platform.tasks.approve(other, task.id) }  // not a participant
            _ = try await platform.tasks.approve(F.owner, task.id)
            try await refused { _ = try await platform.tasks.invoke(F.owner, task.id) }  // not the creator
            _ = try await platform.tasks.invoke(F.user, task.id)
            try await refused { _ = try await platform.tasks.invoke(F.user, task.id) }
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            let builtins = [WorkerCapability(executorType: "builtin", executor: "builtin", engine: nil)]
            _ = try #require(try await queue.claim(worker: "w/0", capabilities: builtins))
            try await refused {
                try await platform.database.write("test") { transaction in
                    _ = try await TaskLifecycle.apply(.claimed(worker: "w/1", lease: 1000), to: task.id, in: transaction)
                }
            }
            let before = try await StorageFixtures.snapshot(platform.database)
            await #expect(throws: LeaseLost.self) {
                _ = try await queue.complete(task.id, worker: "w/1", attempt: 1, result: TaskResult(returnValue: "x", outputTags: [:], log: ""), failure: nil, delivery: [:])
            }
            await #expect(throws: LeaseLost.self) {
                _ = try await queue.complete(task.id, worker: "w/0", attempt: 2, result: TaskResult(returnValue: "x", outputTags: [:], log: ""), failure: nil, delivery: [:])
            }
            #expect(try await StorageFixtures.snapshot(platform.database) == before)
            _ = try await queue.complete(task.id, worker: "w/0", attempt: 1, result: TaskResult(returnValue: "hi", outputTags: [:], log: ""), failure: nil, delivery: [:])
            try await refused { _ = try await platform.tasks.cancel(F.user, task.id) }
            #expect(try await platform.database.record(FunctionRecord.self, function.id)?.invocations == 1)
        }
    }

    @Test("an expired lease runs the task again until its attempts are used up, then fails it; a shutdown's release is not counted")
    func leasesAndAttempts() async throws {
        try await TestServer.with(workers: 0, configure: { $0.workerHooks.settlesLeases = false }) { server in
            let platform = server.platform
            try await F.users(platform)
            let function = try await F.echo(platform)
            let task = try await platform.tasks.invoke(F.user, try await platform.tasks.create(F.user, CreateTaskRequest(functionId: function.id, executor: "builtin")).id)
            let builtins = [WorkerCapability(executorType: "builtin", executor: "builtin", engine: nil)]
            // A lease of 0 ms has run out as soon as it is taken.
            let queue = TaskQueue(database: platform.database, lease: -1, maxAttempts: 2, signer: platform.identities.platform)
            let first = try #require(try await queue.claim(worker: "a/0", capabilities: builtins))
            try await queue.release(task.id, worker: "a/0", attempt: first.attempts)
            #expect(try await platform.database.record(TaskRecord.self, task.id)?.attempts == 0)
            _ = try #require(try await queue.claim(worker: "a/0", capabilities: builtins))
            #expect(try await queue.recoverExpired() == 1)
            var record = try #require(try await platform.database.record(TaskRecord.self, task.id))
            #expect(record.state == .staged && record.attempts == 1 && record.worker == nil)
            // The first worker's heartbeat now finds the task gone from it.
            #expect(try await queue.heartbeat(task.id, worker: "a/0", attempt: 1) == false)
            let second = try #require(try await queue.claim(worker: "b/0", capabilities: builtins))
            #expect(second.attempts == 2)
            #expect(try await queue.recoverExpired() == 1)
            record = try #require(try await platform.database.record(TaskRecord.self, task.id))
            #expect(record.state == .failed)
            #expect(record.reason == "the worker running the task stopped (its lease ran out on each of 2 attempts)")
            #expect(try await TaskLifecycleTests.stateEntries(platform, task.id) == [
                "Approved", "Staged", "Running on a/0", "Staged: requeued at shutdown", "Running on a/0",
                "Staged: retried, its worker a/0 stopped (attempt 1 of 2)", "Running on b/0",
                "Failed: the worker running the task stopped (its lease ran out on each of 2 attempts)",
            ])
            // No worker finished it: the platform's key signs its receipt.
            let receipt = try await platform.tasks.receipt(F.user, task.id)
            let report = try ReceiptVerifier.verify(receipt: receipt, publicKey: try Hex.decode(platform.identities.platform.publicKeyHex))
            #expect(report.state == "Failed" && report.checks.first?.hasPrefix("signature: ok (platform key") == true)
        }
    }
}
