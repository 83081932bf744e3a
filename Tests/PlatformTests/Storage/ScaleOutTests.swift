import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import ProtectedFiles
import SQLKit
import Synchronization
import Testing
@testable import Platform

/// Many servers and workers on one PostgreSQL: two `cloister serve` and three `cloister worker`
/// processes on loopback, 1000 tasks pushed by concurrent clients, one worker and one server killed
/// (SIGKILL) mid-run. In the end every task is final, none lost, none run to completion twice, and
/// every output is where its owner registered it, exactly once.
@Suite("Scale-out: 2 API servers and 3 workers on one PostgreSQL", .enabled(if: TestDatabase.isPostgres, "needs PostgreSQL"))
struct ScaleOutTests {
    static let tasks = 1000
    static let clients = 8

    /// A process of the cluster and what it needs to be found again.
    struct Node {
        let process: Foundation.Process
        let url: String?
    }

    /// Starts `cloister serve` with the cluster's shared settings; its process and URL.
    static func server(_ root: String, _ index: Int, database: String) async throws -> Node {
        let portFile = root + "/api-\(index).port"
        let process = try ServerProcess.launch(
            [
                "serve", "--data", root + "/api-\(index)", "--database", database, "--kek-file", root + "/kek.key", "--outputs", root + "/outputs",
                "--data-root", root + "/files", "--workers", "0", "--port", "0", "--port-file", portFile, "--password-cost", "4",
                "--stale-after", "3",
            ])
        let port = { () -> Int? in (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        guard await poll(within: 120, { port() != nil }), let listening = port() else {
            process.terminate()
            throw CloisterClientError(status: 0, code: "start", message: "cloister serve \(index) did not start")
        }
        return Node(process: process, url: "http://127.0.0.1:\(listening)")
    }

    /// Starts `cloister worker` with the cluster's shared settings.
    static func worker(_ root: String, _ index: Int, database: String) throws -> Node {
        Node(
            process: try ServerProcess.launch([
                "worker", "--data", root + "/worker-\(index)", "--database", database, "--kek-file", root + "/kek.key", "--outputs",
                root + "/outputs", "--data-root", root + "/files", "--workers", "2", "--stale-after", "3",
            ]), url: nil)
    }

    /// Whether `error` is the transport failing (a server gone), not an answer of the API.
    static func isTransport(_ error: any Error) -> Bool {
        guard let answer = error as? CloisterClientError else { return true }
        return answer.status == 0 || answer.status >= 500
    }

    /// How many tasks the clients have invoked so far, shared by their tasks.
    final class Counter: Sendable {
        private let count = Atomic<Int>(0)
        func increment() { count.add(1, ordering: .relaxed) }
        var value: Int { count.load(ordering: .relaxed) }
    }

    /// The servers a client may use, skipping those that stopped answering.
    final class Servers: Sendable {
        private let state: Mutex<[CloisterClient]>
        init(_ clients: [CloisterClient]) { state = Mutex(clients) }
        var all: [CloisterClient] { state.withLock { $0 } }
        func drop(_ url: String) { state.withLock { $0.removeAll { $0.baseURL == url } } }
    }

    /// Runs `call` on the client's preferred server, and on the others when a server is gone. A
    /// call whose server vanished mid-way may or may not have been made: `check` finds out first
    /// (nil: not made, try again).
    static func resilient<T: Sendable>(
        _ servers: Servers, token: String, prefer: Int, check: (@Sendable (CloisterClient) async throws -> T?)? = nil,
        _ call: @Sendable (CloisterClient) async throws -> T
    ) async throws -> T {
        var attempt = 0
        while true {
            let all = servers.all
            let client = all[(prefer + attempt) % all.count].with(token: token)
            do {
                if attempt > 0, let check, let done = try await check(client) { return done }
                return try await call(client)
            } catch where isTransport(error) {
                attempt += 1
                guard attempt < 50 else { throw error }
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    @Test("1000 tasks from 8 clients through 2 servers to 3 workers; a worker and a server SIGKILLed mid-run; every task final once, every output once")
    func thousandTasks() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-scale-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: root + "/files", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let kek = (0..<32).map { _ in UInt8.random(in: 0...255) }
        #expect(FileManager.default.createFile(atPath: root + "/kek.key", contents: Data(kek), attributes: [.posixPermissions: 0o600]))
        guard case .postgres(let database) = try await TestDatabase.make() else { return }
        defer { Task { await TestDatabase.drop(.postgres(url: database)) } }

        // The first server migrates the database and makes the admin; the second finds both done.
        var nodes: [Node] = []
        defer { for node in nodes where node.process.isRunning { kill(node.process.processIdentifier, SIGKILL) } }
        nodes.append(try await Self.server(root, 0, database: database))
        nodes.append(try await Self.server(root, 1, database: database))
        for index in 0..<3 { nodes.append(try Self.worker(root, index, database: database)) }
        let urls = nodes.compactMap(\.url)
        let first = CloisterClient(baseURL: urls[0])
        let (_, owner, user) = try await first.standardUsers()
        // A token of one server works on the other (the token key is the database's).
        _ = try await CloisterClient(baseURL: urls[1], token: user.token).listTasks()
        let writer = try await owner.registerFunction(RegisterFunctionRequest(
            name: "writer", executorType: "wasm", payload: Data(try StorageFixtures.writerModule()).base64EncodedString(),
            arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hello")], outputs: [FunctionFileSpec(name: "out")]))
        let servers = Servers(urls.map { CloisterClient(baseURL: $0) })
        let token = try #require(user.token)
        let key = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let keyHex = Hex.encode(key)
        let invoked = Counter()

        // The platform as the test reads it: the database itself.
        let reader = try await PlatformDatabase.open(.postgres(url: database))
        defer { Task { try? await reader.shutdown() } }
        let count: @Sendable (String) async throws -> Int = { condition in
            try await reader.read { sql in
                try await sql.raw("SELECT CAST(COUNT(*) AS BIGINT) AS n FROM tasks WHERE \(unsafeRaw: condition)").first(decodingColumn: "n", as: Int.self) ?? 0
            }
        }
        // How many of the tasks worker 2 held were taken over after their lease ran out.
        let victim = nodes[2].process.processIdentifier
        let takenOver: @Sendable () async throws -> Int = {
            try await reader.read { sql in
                try await sql.raw("""
                    SELECT CAST(COUNT(*) AS BIGINT) AS n FROM audit WHERE action = 'task.state' \
                    AND detail LIKE \(bind: "Staged: retried, its worker %:\(victim):%")
                    """).first(decodingColumn: "n", as: Int.self) ?? 0
            }
        }
        let cluster = nodes

        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<Self.clients {
                group.addTask {
                    for index in stride(from: client, to: Self.tasks, by: Self.clients) {
                        let message = "message-\(index)"
                        let url = "file://\(root)/files/out-\(index)"
                        let output = try await Self.resilient(servers, token: token, prefer: client, check: { server in
                            try await server.listOutputs().first { $0.url == url }
                        }) { server in
                            try await server.registerOutput(RegisterOutputRequest(url: url, scheme: "cloister-file-128", key: keyHex))
                        }
                        let task = try await Self.resilient(servers, token: token, prefer: client, check: { server in
                            try await server.listTasks().first { $0.functionArguments["message"] == message }
                        }) { server in
                            try await server.createTask(CreateTaskRequest(
                                functionId: writer.id, functionArguments: ["message": ArgumentValue(message)], executor: "wasmkit",
                                outputsOwnership: ["out": ["mgr"]]))
                        }
                        _ = try await Self.resilient(servers, token: token, prefer: client, check: { server in
                            let current = try await server.getTask(task.id)
                            return current.assignedOutputs["out"] == output.id ? current : nil
                        }) { server in
                            try await server.assignData(task.id, outputs: ["out": output.id])
                        }
                        _ = try await Self.resilient(servers, token: token, prefer: client, check: { server in
                            let current = try await server.getTask(task.id)
                            return current.state == .approved ? nil : current
                        }) { server in
                            try await server.invokeTask(task.id)
                        }
                        invoked.increment()
                    }
                }
            }
            // Mid-run: kill a worker while it holds tasks, and a server while clients use it. The
            // worker is first frozen (SIGSTOP) until it is caught holding a task and that task's
            // lease has run out and another worker has taken it over, so that the kill always
            // leaves work behind (a task takes milliseconds: a bare kill may find both slots idle).
            group.addTask {
                let pid = cluster[2].process.processIdentifier
                let holding = "state = 'Running' AND worker LIKE '%:\(pid):%'"
                #expect(await poll(within: 600) { invoked.value >= 300 })
                var caught = false
                for _ in 0..<500 where !caught {
                    kill(pid, SIGSTOP)
                    if (try? await count(holding)) ?? 0 > 0 {
                        // Frozen, it commits nothing more (but a commit already sent): wait until
                        // the task is taken over (its lease is 3 s), or turns out to have been
                        // completed after all. Frozen inside a transaction, it keeps the task's
                        // row locked until PostgreSQL ends its idle session (after 60 s).
                        _ = await poll(within: 240) {
                            if try await takenOver() > 0 { return true }
                            return try await count(holding) == 0
                        }
                        caught = (try? await takenOver()) ?? 0 > 0
                    }
                    if !caught {
                        kill(pid, SIGCONT)
                        try? await Task.sleep(for: .milliseconds(20))
                    }
                }
                #expect(caught, "worker 2 was never caught holding a task")
                kill(pid, SIGKILL)
                #expect(await poll(within: 600) { invoked.value >= 500 })
                kill(cluster[1].process.processIdentifier, SIGKILL)
                servers.drop(urls[1])
            }
            try await group.waitForAll()
        }
        for index in [1, 2] {
            nodes[index].process.waitUntilExit()
            #expect(nodes[index].process.terminationReason == .uncaughtSignal)
        }

        // Every task reaches a final state.
        #expect(await poll(within: 900) { try await count("state IN ('Finished', 'Failed', 'Canceled')") == Self.tasks })
        #expect(try await count("TRUE") == Self.tasks, "a task was created twice or lost")
        #expect(try await count("state = 'Finished'") == Self.tasks)
        // The killed worker's tasks ran again elsewhere, and finished there (once: see below).
        let retried = try await takenOver()
        #expect(retried > 0)
        #expect(try await count("attempt > 1 AND state = 'Finished'") >= retried)
        let (finishes, tags) = try await reader.read { sql in
            let finishes = try await sql.raw("SELECT object, CAST(COUNT(*) AS BIGINT) AS n FROM audit WHERE action = 'task.state' AND detail = 'Finished' GROUP BY object").all()
                .map { (try $0.decode(column: "object", as: String.self), try $0.decode(column: "n", as: Int.self)) }
            let tags = try await RecordTable<FileRecord>(sql: sql).list().filter { $0.kind == .output }
            return (finishes, tags)
        }
        #expect(finishes.count == Self.tasks && finishes.allSatisfy { $0.1 == 1 }, "a task finished twice: \(finishes.filter { $0.1 != 1 })")
        // Every output is in place once, written by its task, readable with its owner's key.
        let tasks = try await user.listTasks()
        #expect(tasks.count == Self.tasks)
        let tagByOutput = Dictionary(uniqueKeysWithValues: tags.map { ($0.id, $0.tag) })
        for task in tasks {
            let message = try #require(task.functionArguments["message"])
            let index = try #require(Int(message.dropFirst("message-".count)))
            let path = root + "/files/out-\(index)"
            let output = try #require(task.assignedOutputs["out"])
            #expect(tagByOutput[output] == task.result?.outputTags["out"] && tagByOutput[output] != nil)
            #expect(await poll(within: 60) { FileManager.default.fileExists(atPath: path) }, "\(path) is missing")
            #expect(try StorageFixtures.decrypt(path, key: key) == message)
        }
        #expect(await poll(within: 60) { ((try? FileManager.default.contentsOfDirectory(atPath: root + "/outputs/.pending")) ?? []).isEmpty })
        let delivered = try FileManager.default.contentsOfDirectory(atPath: root + "/files")
        #expect(delivered.count == Self.tasks && delivered.allSatisfy { $0.hasPrefix("out-") && !$0.contains(".cloister-") }, "\(delivered.count) files")
        // Five processes wrote at once, two of them killed: still one audit chain and one receipt
        // chain, every task's receipt signed by a registered worker key and naming an entry of the log.
        let chain = try await reader.verifyAuditChain()
        #expect(chain.receipts == Self.tasks)
        for node in nodes where node.process.isRunning {
            node.process.terminate()
            node.process.waitUntilExit()
            #expect(node.process.terminationStatus == 0)
        }
    }
}
