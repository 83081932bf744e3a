import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import ProtectedFiles
import Testing
@testable import Platform

/// A call stopped between any two of its statements leaves no half-written state: with a
/// failpoint (`Failpoints`) before each statement in turn — and before the commit — the database
/// is exactly as it was before the call; and a `cloister serve` killed (SIGKILL) at each of those
/// points comes back with the call either not made at all or, for a run, made exactly once.
@Suite("Storage: a stop between any two statements")
struct CrashConsistencyTests {
    typealias F = StorageFixtures

    /// Runs `call` with a failpoint before its first statement, then its second, … until it
    /// completes; after every stopped attempt the database must be as before. How many statements
    /// (and the commit) the call has.
    static func everyStatement(_ platform: Platform, _ label: String, _ call: () async throws -> Void) async throws -> Int {
        var position = 1
        while true {
            let before = try await F.snapshot(platform.database)
            platform.database.failpoints.arm(label: label, statement: position)
            let fired = platform.database.failpoints.firedCount
            do {
                try await call()
            } catch is InjectedFailure {
                let after = try await F.snapshot(platform.database)
                #expect(after == before, "\(label) stopped before statement \(position) left: \(after.filter { !before.contains($0) })")
                position += 1
                continue
            }
            platform.database.failpoints.disarm()
            #expect(platform.database.failpoints.firedCount == fired, "\(label): the call went on after the failpoint fired")
            return position - 1
        }
    }

    @Test("every call and every worker step, stopped before each of its statements and before its commit, writes nothing")
    func injectedFailures() async throws {
        // The platform's own pool settles no lease: the test's expired claim is settled by the call it stops.
        try await TestServer.with(workers: 0, configure: { $0.workerHooks.settlesLeases = false }) { server in
            let platform = server.platform
            var counts: [String: Int] = [:]
            counts["user.register"] = try await Self.everyStatement(platform, "user.register") {
                _ = try await platform.accounts.register(F.admin, RegisterUserRequest(id: "fo", password: "password-1", role: "FunctionOwner"))
            }
            _ = try await platform.accounts.register(F.admin, RegisterUserRequest(id: "mgr", password: "password-1", role: "DataOwnerManager-x"))
            var writer: Function?
            counts["function.register"] = try await Self.everyStatement(platform, "function.register") { writer = try await F.writer(platform) }
            let function = try #require(writer)
            counts["function.update"] = try await Self.everyStatement(platform, "function.update") {
                _ = try await platform.functions.update(F.owner, function.id, UpdateFunctionRequest(
                    description: "writes its message", payload: Data(try F.writerModule()).base64EncodedString()))
            }
            var output: DataFile?
            counts["data.register_output"] = try await Self.everyStatement(platform, "data.register_output") {
                output = try await platform.data.registerOutput(F.user, RegisterOutputRequest(scheme: "cloister-file-128", key: String(repeating: "ab", count: 16)))
            }
            // Registering checks that the key opens the file: a real aes-gcm ciphertext.
            let sealed = try SecurityFixtures.encrypted(Array("x".utf8), scheme: .aesGCM128, key: [UInt8](repeating: 0xcd, count: 16), iv: [UInt8](repeating: 1, count: 12))
            counts["data.register_input"] = try await Self.everyStatement(platform, "data.register_input") {
                _ = try await platform.data.registerInput(F.user, RegisterInputRequest(
                    url: "data:application/octet-stream;base64," + Data(sealed.bytes).base64EncodedString(), scheme: "aes-gcm-128",
                    key: sealed.key, iv: String(repeating: "01", count: 12)))
            }
            var created: TaskInfo?
            counts["task.create"] = try await Self.everyStatement(platform, "task.create") {
                created = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: function.id, executor: "wasmkit", outputsOwnership: ["out": ["mgr"]]))
            }
            let task = try #require(created)
            counts["task.assign_data"] = try await Self.everyStatement(platform, "task.assign_data") {
                _ = try await platform.tasks.assignData(F.user, task.id, AssignDataRequest(outputs: ["out": try #require(output).id]))
            }
            counts["task.invoke"] = try await Self.everyStatement(platform, "task.invoke") { _ = try await platform.tasks.invoke(F.user, task.id) }
            let queue = TaskQueue(database: platform.database, lease: 60_000, maxAttempts: 3, signer: platform.identities.platform)
            let capabilities = WorkerCapability.of(platform.configuration.registry, engine: .wasmkit)
            counts["task.claim"] = try await Self.everyStatement(platform, "task.claim") {
                _ = try #require(try await queue.claim(worker: "w/0", capabilities: capabilities))
            }
            counts["task.complete"] = try await Self.everyStatement(platform, "task.complete") {
                _ = try await queue.complete(
                    task.id, worker: "w/0", attempt: 1, result: TaskResult(returnValue: "5", outputTags: ["out": "ab"], log: ""), failure: nil,
                    delivery: ["out": "\(task.id).1/output-out"])
            }
            #expect(try await platform.database.record(FileRecord.self, try #require(output).id)?.tag == "ab")
            // Cancel, and the recovery of an expired lease, on tasks of their own.
            let echo = try await F.echo(platform)
            let canceled = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: echo.id, executor: "builtin"))
            _ = try await platform.tasks.invoke(F.user, canceled.id)
            counts["task.cancel"] = try await Self.everyStatement(platform, "task.cancel") { _ = try await platform.tasks.cancel(F.user, canceled.id) }
            let lost = try await platform.tasks.create(F.user, CreateTaskRequest(functionId: echo.id, executor: "builtin"))
            _ = try await platform.tasks.invoke(F.user, lost.id)
            let expiring = TaskQueue(database: platform.database, lease: -1, maxAttempts: 3, signer: platform.identities.platform)
            _ = try #require(try await expiring.claim(worker: "w/1", capabilities: capabilities))
            counts["task.recover"] = try await Self.everyStatement(platform, "task.recover") {
                let settled = try await expiring.recoverExpired()
                #expect(settled == 1)
            }
            #expect(try await platform.database.record(TaskRecord.self, lost.id)?.state == .staged)
            // Each call was stopped at several places (its statements and its commit).
            for (label, count) in counts { #expect(count >= 3, "\(label): \(count)") }
        }
    }

    /// The `task.state` entries and the `task.invoke` decisions of `task`, as an admin reads them.
    static func history(_ admin: CloisterClient, _ task: String) async throws -> (states: [String], invokes: Int) {
        let entries = try await admin.audit(object: task, limit: 1000)
        return (
            entries.filter { $0.action == "task.state" }.reversed().map(\.detail),
            entries.filter { $0.action == "task.invoke" && $0.decision == "allowed" }.count
        )
    }

    @Test("`cloister serve` killed (SIGKILL) inside an invoke, at each statement and at its commit: after a restart the task was never invoked")
    func killedInsideInvoke() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0"])
        let (admin, owner, user) = try await client.standardUsers()
        let echo = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "once")], usageQuota: 10))
        let task = try await user.createTask(CreateTaskRequest(functionId: echo.id, executor: "builtin"))
        server.terminate()
        server.waitUntilExit()
        let count = try await Self.invokeStatements()
        #expect(count >= 5)
        for position in 1...count {
            (server, client) = try await ServerProcess.start(
                folder: folder, arguments: ["--workers", "0"], environment: ["CLOISTER_FAILPOINT": "task.invoke:\(position):kill"])
            let answer = try? await client.with(token: user.token).send(.POST, "/v1/tasks/\(task.id)/invoke")
            server.waitUntilExit()
            #expect(answer == nil, "the server answered the invoke stopped before statement \(position)")
            #expect(server.terminationReason == .uncaughtSignal && server.terminationStatus == SIGKILL)
            (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0"])
            #expect(try await client.with(token: user.token).getTask(task.id).state == .approved, "killed before statement \(position)")
            #expect(try await client.with(token: owner.token).functionUsage(echo.id).invocations == 0)
            #expect(try await Self.history(client.with(token: admin.token), task.id).invokes == 0)
            server.terminate()
            server.waitUntilExit()
        }
        // Unarmed, the invoke happens once and the task runs once.
        (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let finished = try await client.with(token: user.token).invokeTask(task.id)
        #expect(finished.state == .staged)
        #expect(try await client.with(token: user.token).waitForTask(task.id, timeout: .seconds(60)).state == .finished)
        let history = try await Self.history(client.with(token: admin.token), task.id)
        #expect(history.invokes == 1)
        #expect(history.states.filter { $0 == "Finished" }.count == 1)
        #expect(try await client.with(token: owner.token).functionUsage(echo.id).invocations == 1)
    }

    /// How many statements (with the commit) an invoke has, counted in process.
    static func invokeStatements() async throws -> Int {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let echo = try await F.echo(server.platform)
            let task = try await server.platform.tasks.create(F.user, CreateTaskRequest(functionId: echo.id, executor: "builtin"))
            return try await everyStatement(server.platform, "task.invoke") { _ = try await server.platform.tasks.invoke(F.user, task.id) }
        }
    }

    @Test("`cloister serve` killed inside the worker's commit of a run, at each statement: after a restart the task runs again and finishes once, its output there once")
    func killedInsideComplete() async throws {
        let count = try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let writer = try await F.writer(server.platform)
            let (task, _, _) = try await F.writerTask(server.platform, writer)
            _ = try await server.platform.tasks.invoke(F.user, task.id)
            let queue = TaskQueue(database: server.platform.database, lease: 60_000, maxAttempts: 3, signer: server.platform.identities.platform)
            _ = try #require(try await queue.claim(worker: "w/0", capabilities: WorkerCapability.of(server.platform.configuration.registry, engine: .wasmkit)))
            return try await CrashConsistencyTests.everyStatement(server.platform, "task.complete") {
                _ = try await queue.complete(
                    task.id, worker: "w/0", attempt: 1, result: TaskResult(returnValue: "5", outputTags: ["out": "ab"], log: ""), failure: nil,
                    delivery: ["out": "x"])
            }
        }
        #expect(count >= 5)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-crash-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0"])
        let (admin, owner, user) = try await client.standardUsers()
        let writer = try await owner.registerFunction(RegisterFunctionRequest(
            name: "writer", executorType: "wasm", payload: Data(try F.writerModule()).base64EncodedString(),
            arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hello")], outputs: [FunctionFileSpec(name: "out")]))
        server.terminate()
        server.waitUntilExit()
        for position in 1...count {
            let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
            (server, client) = try await ServerProcess.start(folder: folder, environment: ["CLOISTER_FAILPOINT": "task.complete:\(position):kill"])
            var session = client.with(token: user.token)
            let output = try await session.registerOutput(RegisterOutputRequest(scheme: "cloister-file-128", key: Hex.encode(key)))
            let task = try await session.createTask(CreateTaskRequest(
                functionId: writer.id, functionArguments: ["message": ArgumentValue("crash \(position)")], executor: "wasmkit",
                outputsOwnership: ["out": ["mgr"]]))
            _ = try await session.assignData(task.id, outputs: ["out": output.id])
            _ = try await session.invokeTask(task.id)
            server.waitUntilExit()
            #expect(server.terminationReason == .uncaughtSignal && server.terminationStatus == SIGKILL, "position \(position)")
            // The run's end never committed: the restarted server's worker runs it again (its lease ran out).
            #expect(!FileManager.default.fileExists(atPath: folder + "/data/outputs/" + output.id))
            (server, client) = try await ServerProcess.start(folder: folder)
            session = client.with(token: user.token)
            let done = try await session.waitForTask(task.id, timeout: .seconds(120))
            let reason = done.reason ?? ""
            #expect(done.state == .finished, "position \(position): \(done.state.rawValue) \(reason)")
            let history = try await Self.history(client.with(token: admin.token), task.id)
            let states: [String] = history.states
            #expect(states.filter { $0 == "Finished" }.count == 1, "\(states)")
            #expect(states.filter { $0.hasPrefix("Running on") }.count == 2, "\(states)")
            let content = try await session.downloadOutput(output.id)
            let reader = try ProtectedFileReader(scheme: .cloisterFile128, key: key, input: MemoryFile([UInt8](content)))
            var plain: [UInt8] = []
            while let piece = try reader.read() { plain += piece }
            #expect(String(decoding: plain, as: UTF8.self) == "crash \(position)")
            #expect(await F.eventually {
                ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/data/outputs/.pending")) ?? []).isEmpty
            })
            server.terminate()
            server.waitUntilExit()
        }
    }
}
