import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Executors
import Foundation
@testable import Platform
import Scenarios
import Synchronization
import Testing

/// A function's network use (issue 17): a function declares the destinations it needs, a task
/// keeps a copy its participants approve (shown in the task, named in each approval's audit
/// entry), and the function runs with exactly that copy, within the operator's limits. A real
/// guest (`Tests/Guests/functions/net_fetch.c`) connects to a real TCP server on loopback.
@Suite(.serialized) struct NetworkApprovalTests {
    /// Lets functions reach loopback, as an operator who runs their services there would.
    static func allowingLoopback(_ configuration: inout PlatformConfiguration) {
        configuration.functionNetwork = FunctionNetworkPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])
    }

    /// Registers `net_fetch` (declaring `network`, when given) for a fresh function owner, with
    /// data owners alice and bob.
    static func fetchFunction(
        _ context: ScenarioContext, attribute: String, port: UInt16, network: FunctionNetwork?
    ) async throws -> (function: Function, functionOwner: CloisterClient, alice: Party, bob: Party) {
        let (functionOwner, owners) = try await context.parties(["alice", "bob"], attribute: attribute)
        let payload = try Data(contentsOf: try TestGuests.path("functions/net_fetch"))
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "net-fetch", executorType: "wasm", payload: payload.base64EncodedString(), public: true,
            arguments: [FunctionArgumentSpec(key: "host", defaultValue: "127.0.0.1"), FunctionArgumentSpec(key: "port", defaultValue: "\(port)")],
            outputs: [FunctionFileSpec(name: "reply")], network: network))
        #expect(function.network == network)
        return (function, functionOwner, owners["alice"]!, owners["bob"]!)
    }

    /// Alice's task of `function` (fetching from `port`, when given) whose output `reply` bob
    /// owns and has assigned; the task and bob's output key.
    static func fetchTask(_ function: Function, alice: Party, bob: Party, port: UInt16? = nil) async throws -> (task: TaskInfo, key: [UInt8]) {
        let task = try await alice.client.createTask(CreateTaskRequest(
            functionId: function.id, functionArguments: port.map { ["port": ArgumentValue(stringLiteral: "\($0)")] }, executor: "wasmkit",
            outputsOwnership: ["reply": [bob.id]]))
        let (output, key) = try await bob.registerOutput()
        _ = try await bob.client.assignData(task.id, outputs: ["reply": output.id])
        return (task, key)
    }

    /// Both parties approve `task` and alice invokes it; the task once it ended.
    static func approveAndRun(_ task: TaskInfo, alice: Party, bob: Party) async throws -> TaskInfo {
        _ = try await alice.client.approveTask(task.id)
        _ = try await bob.client.approveTask(task.id)
        _ = try await alice.client.invokeTask(task.id)
        return try await alice.client.waitForTask(task.id, timeout: .seconds(300))
    }

    @Test("a function whose network use was not approved fails with a clear reason and reaches nothing")
    func unapprovedNetworkUse() async throws {
        let greeter = try Greeter()
        try await TestServer.with(configure: Self.allowingLoopback) { server in
            let (function, _, alice, bob) = try await Self.fetchFunction(server.scenarioContext, attribute: "net1", port: greeter.port, network: nil)
            let (task, _) = try await Self.fetchTask(function, alice: alice, bob: bob)
            #expect(task.network == nil)
            let ended = try await Self.approveAndRun(task, alice: alice, bob: bob)
            #expect(ended.state == .failed)
            let reason = ended.reason ?? ""
            #expect(
                reason.hasPrefix("network use not approved: connecting to 127.0.0.1:\(greeter.port) was refused"),
                "\(reason)")
            #expect(reason.contains("the run then failed: exited with status 1: connect to 127.0.0.1:\(greeter.port): Permission denied"), "\(reason)")
            let receipt = try JSONValue.parseCanonical(Array(try await bob.client.taskReceipt(task.id)))["receipt"]
            #expect(receipt?["network"] == .null && receipt?["reason"] == .string(reason))
        }
        #expect(greeter.connections == 0, "the guest reached the server")
    }

    @Test("approved network use: shown in the task, named in every approval, the only destination the function reaches")
    func approvedNetworkUse() async throws {
        let greeter = try Greeter()
        let other = try Greeter()
        try await TestServer.with(configure: Self.allowingLoopback) { server in
            let context = server.scenarioContext
            let declared = FunctionNetwork(connect: [NetworkDestination(host: "127.0.0.1/32", port: Int(greeter.port))])
            let (function, functionOwner, alice, bob) = try await Self.fetchFunction(context, attribute: "net2", port: greeter.port, network: declared)
            let (task, key) = try await Self.fetchTask(function, alice: alice, bob: bob)
            let (elsewhere, _) = try await Self.fetchTask(function, alice: alice, bob: bob, port: other.port)
            #expect(task.network == declared)
            #expect(try await bob.client.getTask(task.id).network == declared, "every participant sees it")
            // A later change of the function does not change what its tasks' participants approve.
            let widened = FunctionNetwork(connect: declared.connect + [NetworkDestination(host: "127.0.0.1/32", port: Int(other.port))])
            #expect(try await functionOwner.updateFunction(function.id, UpdateFunctionRequest(network: widened)).network == widened)
            #expect(try await alice.client.getTask(task.id).network == declared)
            #expect(try await alice.client.getTask(elsewhere.id).network == declared)

            let ended = try await Self.approveAndRun(task, alice: alice, bob: bob)
            #expect(ended.state == .finished, "\(ended.reason ?? "")\n\(ended.result?.log ?? "")")
            #expect(ended.result?.returnValue == "fetched \(Greeter.greeting.utf8.count) bytes\n")
            #expect(try await bob.readOutput(ended.assignedOutputs["reply"]!, key: key) == Greeter.greeting)
            // The signed receipt names the network use the approvals covered.
            let receipt = try JSONValue.parseCanonical(Array(try await bob.client.taskReceipt(task.id)))["receipt"]
            #expect(receipt?["network"] == .object([
                "connect": .array([.object(["host": .string("127.0.0.1/32"), "port": .integer(Int(greeter.port))])]), "listen": .array([]),
            ]))
            let entries = try await context.admin().audit(object: task.id).filter { $0.action == "task.approve" }
            #expect(Set(entries.map(\.user)) == [alice.id, bob.id])
            for entry in entries {
                #expect(entry.detail == "approves network use: connect 127.0.0.1/32:\(greeter.port); listen none", "\(entry)")
            }

            // The task created before the function was widened runs with what was approved then.
            let refused = try await Self.approveAndRun(elsewhere, alice: alice, bob: bob)
            #expect(refused.state == .failed)
            #expect(refused.reason?.hasPrefix("network use not approved: connecting to 127.0.0.1:\(other.port) was refused") == true, "\(refused.reason ?? "")")
        }
        #expect(greeter.connections == 1)
        #expect(other.connections == 0)
    }

    @Test("the operator's limits: loopback and private ranges only where allowed, no network at all on request")
    func operatorLimits() async throws {
        let payload = try Data(contentsOf: try TestGuests.path("functions/net_fetch")).base64EncodedString()
        @Sendable func register(_ client: CloisterClient, _ network: FunctionNetwork, type: String = "wasm") async -> String? {
            do {
                _ = try await client.registerFunction(RegisterFunctionRequest(
                    name: type == "builtin" ? "builtin-echo" : "net-fetch", executorType: type, payload: type == "wasm" ? payload : type == "python" ? "cHJpbnQoMSk=" : nil,
                    network: network))
                return nil
            } catch let error as CloisterClientError {
                #expect(error.status == 400, "\(error)")
                return error.message
            } catch {
                return "\(error)"
            }
        }
        let loopback = FunctionNetwork(connect: [NetworkDestination(host: "127.0.0.1/32", port: 80)])
        let publicHost = FunctionNetwork(connect: [NetworkDestination(host: "203.0.113.0/24", port: 443), NetworkDestination(host: "db.example.com", port: 5432)])
        try await TestServer.with { server in
            let (owner, _) = try await server.scenarioContext.parties([], attribute: "net3")
            let refused = await register(owner, loopback)
            #expect(refused?.contains("'network.connect[0].host': \"127.0.0.1/32\" is in a loopback, private, link-local or unspecified range") == true, "\(refused ?? "")")
            #expect(refused?.contains("--allow-function-network") == true)
            let listening = await register(owner, FunctionNetwork(listen: [NetworkListenAddress(address: "0.0.0.0", port: 8080)]))
            #expect(listening?.contains("'network.listen[0].address': \"0.0.0.0\" is in a loopback") == true, "\(listening ?? "")")
            #expect(await register(owner, publicHost) == nil, "public destinations need no operator's allowance")
            // Malformed entries, and functions that have no sockets.
            let cases: [(FunctionNetwork, String, String)] = [
                (FunctionNetwork(connect: [NetworkDestination(host: "bad_name!", port: 1)]), "wasm", "'network.connect[0].host': expected a network"),
                (FunctionNetwork(connect: [NetworkDestination(host: "10.0.0.0/33", port: 1)]), "wasm", "'network.connect[0].host'"),
                (FunctionNetwork(connect: [NetworkDestination(host: "example.com", port: 70000)]), "wasm", "'network.connect[0].port': expected a port"),
                (FunctionNetwork(listen: [NetworkListenAddress(address: "localhost", port: 1)]), "wasm", "'network.listen[0].address': expected an IPv4 or IPv6 address"),
                (publicHost, "python", "'network': only wasm functions may use the network"),
                (publicHost, "builtin", "'network': only wasm functions may use the network"),
            ]
            for (network, type, expected) in cases {
                let message = await register(owner, network, type: type)
                #expect(message?.contains(expected) == true, "\(type) \(network.summary): \(message ?? "registered")")
            }
            let registered = try await owner.listFunctions().filter { $0.name == "net-fetch" }
            #expect(registered.count == 1, "only the public one was registered")
            #expect(registered.first?.network == publicHost)
            // A field no entry has is named, and changes nothing.
            let id = try #require(registered.first?.id)
            let body = #"{"network": {"connect": [{"host": "example.com", "port": 443, "protocol": "udp"}]}}"#
            do {
                _ = try await owner.updateFunction(id, json: Data(body.utf8))
                Issue.record("an unknown field was taken")
            } catch let error as CloisterClientError {
                #expect(error.message == "field 'network.connect[0].protocol': unknown field; the fields are host, port", "\(error)")
            }
            #expect(try await owner.getFunction(id).network == publicHost)
        }
        try await TestServer.with(configure: { $0.functionNetwork = FunctionNetworkPolicy(enabled: false) }) { server in
            let (owner, _) = try await server.scenarioContext.parties([], attribute: "net4")
            let refused = await register(owner, publicHost)
            #expect(refused?.contains("functions on this platform have no network") == true, "\(refused ?? "")")
            #expect(await register(owner, FunctionNetwork()) == nil, "declaring nothing is no network use")
        }
    }

    @Test("a worker whose operator allows less fails a task approved for more, before it runs")
    func workerChecksAgain() async throws {
        // `serve` allows loopback; the separate `cloister worker` on the same database does not.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-net-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0", "--allow-function-network", "127.0.0.0/8"])
        defer { kill(server.processIdentifier, SIGKILL) }
        let (_, owner, user) = try await client.standardUsers()
        let payload = try Data(contentsOf: try TestGuests.path("functions/net_fetch"))
        let function = try await owner.registerFunction(RegisterFunctionRequest(
            name: "net-fetch", executorType: "wasm", payload: payload.base64EncodedString(),
            arguments: [FunctionArgumentSpec(key: "host", defaultValue: "127.0.0.1"), FunctionArgumentSpec(key: "port", defaultValue: "9")],
            outputs: [FunctionFileSpec(name: "reply", optional: true)],
            network: FunctionNetwork(connect: [NetworkDestination(host: "127.0.0.1/32", port: 9)])))
        let task = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "wasmkit"))
        #expect(task.network == function.network && task.state == .approved, "the creator alone approves: \(task.state)")
        _ = try await user.invokeTask(task.id)
        let worker = try ServerProcess.launch(
            ["worker", "--data", folder + "/data", "--workers", "1", "--stale-after", "2", "--password-cost", "4"]
                + (try await TestDatabase.arguments(folder: folder)))
        defer { kill(worker.processIdentifier, SIGKILL) }
        let ended = try await user.waitForTask(task.id, timeout: .seconds(120))
        #expect(ended.state == .failed)
        #expect(
            ended.reason?.hasPrefix(
                "the task's approved network use is not allowed on this worker: field 'network.connect[0].host': \"127.0.0.1/32\" is in a loopback")
                == true, "\(ended.reason ?? "")")
        #expect(ended.result?.log.isEmpty ?? true, "the function did not run")
    }

    @Test("the policy's rules: what a narrower operator refuses")
    func narrowerPolicies() throws {
        let approved = FunctionNetwork(connect: [NetworkDestination(host: "10.1.0.0/16", port: 5432)])
        let server = FunctionNetworkPolicy(allowedNetworks: [IPNetwork("10.0.0.0/8")!])
        let worker = FunctionNetworkPolicy()
        let rules = try server.rules(for: approved)
        #expect(rules.connect.count == 1 && rules.listen.isEmpty)
        #expect(throws: PlatformError.self) { try worker.rules(for: approved) }
        #expect(throws: PlatformError.self) { try FunctionNetworkPolicy(enabled: false).rules(for: approved) }
        #expect(try FunctionNetworkPolicy(enabled: false).rules(for: FunctionNetwork()) == .none)
    }
}

/// A TCP server on loopback that greets each connection and closes it, counting them; it stops
/// when it is released.
final class Greeter: @unchecked Sendable {
    static let greeting = "hello from the host\n"
    let port: UInt16
    private let fd: Int32
    private final class Count: Sendable {
        let value = Mutex(0)
    }
    private let count = Count()
    var connections: Int { count.value.withLock { $0 } }

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(.EADDRINUSE) }
        port = UInt16(bigEndian: address.sin_port)
        let count = count
        Thread.detachNewThread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 { return }
                count.value.withLock { $0 += 1 }
                _ = Greeter.greeting.withCString { send(client, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                close(client)
            }
        }
    }

    deinit {
        shutdown(fd, Int32(SHUT_RDWR))
        close(fd)
    }
}
