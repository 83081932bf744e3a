import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import Scenarios
import Testing
import WAT

/// A function owner's module whose start function never returns used to escape every limit: the
/// deadline, cancel and the server's graceful shutdown all failed, and the workers spun until
/// SIGKILL. It is stopped like any other guest now.
@Suite(.serialized) struct GuestEscapeTaskTests {
    static let startSpinner = """
        (module (memory (export "memory") 1)
          (func $spin (loop $forever (br $forever)))
          (start $spin)
          (func (export "_start")))
        """

    /// Registers the spinning function and creates, approves and invokes a task of it as a lone
    /// data owner; the owner's client and the task's id.
    static func invokeSpinner(_ context: ScenarioContext, attribute: String) async throws -> (CloisterClient, String) {
        let (functionOwner, owners) = try await context.parties(["spinner"], attribute: attribute)
        let user = owners["spinner"]!
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "start-spinner", executorType: "wasm", payload: Data(try wat2wasm(startSpinner)).base64EncodedString(), public: true))
        let task = try await user.client.createTask(CreateTaskRequest(functionId: function.id, executor: "wasmkit"))
        _ = try await user.client.invokeTask(task.id)
        return (user.client, task.id)
    }

    @Test("a task whose start function spins is canceled, and its deadline fails it")
    func cancelAndDeadline() async throws {
        try await TestServer.with(configure: { $0.functionLimits.timeout = 2_000_000_000 }) { server in
            let context = server.scenarioContext
            let (client, id) = try await Self.invokeSpinner(context, attribute: "spin1")
            let late = try await client.waitForTask(id, timeout: .seconds(120))
            #expect(late.state == .failed)
            #expect(late.reason == "deadline exceeded: the function ran longer than 2s", "\(late.reason ?? "")")
        }
        try await TestServer.with { server in
            let context = server.scenarioContext
            let (client, id) = try await Self.invokeSpinner(context, attribute: "spin2")
            #expect(await poll(within: 120) { try await client.getTask(id).state == .running })
            let canceled = try await client.cancelTask(id)
            #expect(canceled.state == .canceled)
            // The worker is free again: a second task runs to its own cancel.
            let (again, second) = try await Self.invokeSpinner(context, attribute: "spin3")
            #expect(await poll(within: 120) { try await again.getTask(second).state == .running })
            #expect(try await again.cancelTask(second).state == .canceled)
        }
    }

    @Test("SIGTERM stops a server whose worker runs a spinning start function, promptly")
    func gracefulShutdown() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-spin-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (process, client) = try await ServerProcess.start(folder: folder)
        defer { if process.isRunning { process.interrupt() } }
        let context = ScenarioContext(client: client, adminPassword: TestServer.adminPassword, examples: "", psiModule: "", log: { _ in })
        let (user, id) = try await Self.invokeSpinner(context, attribute: "spin4")
        #expect(await poll(within: 120) { try await user.getTask(id).state == .running })
        process.terminate()  // SIGTERM
        #expect(await poll(within: 30) { !process.isRunning }, "the server did not stop within 30 s of SIGTERM")
    }
}
