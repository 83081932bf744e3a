import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import Testing
import WAT

/// The real `cloister serve`, killed with SIGKILL while tasks are queued and running, then started
/// again on the same data folder: every task ends in a final state and nothing is lost.
@Suite("Restart after SIGKILL")
struct RestartTests {
    /// A WASI command that spins on the monotonic clock for `seconds`, then exits.
    static func spinner(seconds: Int) throws -> [UInt8] {
        try wat2wasm("""
            (module
              (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "_start") (local $start i64)
                (drop (call $clock (i32.const 1) (i64.const 1000) (i32.const 0)))
                (local.set $start (i64.load (i32.const 0)))
                (loop $spin
                  (drop (call $clock (i32.const 1) (i64.const 1000) (i32.const 0)))
                  (br_if $spin (i64.lt_u (i64.sub (i64.load (i32.const 0)) (local.get $start)) (i64.const \(seconds)000000000))))))
            """)
    }

    @Test("SIGKILL with a task running and tasks queued: after a restart every task ends, nothing is lost")
    func killAndRestart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-restart-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var (server, client) = try await ServerProcess.start(folder: folder)
        defer { if server.isRunning { kill(server.processIdentifier, SIGKILL) } }

        let (_, owner, firstUser) = try await client.standardUsers()
        var user = firstUser
        let spin = try await owner.registerFunction(RegisterFunctionRequest(
            name: "spin", executorType: "wasm", payload: Data(try Self.spinner(seconds: 20)).base64EncodedString()))
        let echo = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")]))

        // One worker: the spinner runs (20 s, so that it is still running when the server is
        // killed however loaded the machine), the echoes queue behind it.
        let running = try await user.createTask(CreateTaskRequest(functionId: spin.id, executor: "wasmkit"))
        _ = try await user.invokeTask(running.id)
        #expect(await poll(within: 60) { try await user.getTask(running.id).state == .running })
        var queued: [String] = []
        for index in 0..<5 {
            let task = try await user.createTask(CreateTaskRequest(
                functionId: echo.id, functionArguments: ["message": ArgumentValue("queued \(index)")], executor: "builtin"))
            _ = try await user.invokeTask(task.id)
            queued.append(task.id)
        }
        let waiting = try await user.createTask(CreateTaskRequest(functionId: echo.id, executor: "builtin"))
        #expect(try await user.getTask(queued[4]).state == .staged)

        kill(server.processIdentifier, SIGKILL)
        server.waitUntilExit()
        (server, client) = try await ServerProcess.start(folder: folder)

        // The same users, tokens and tasks are there; every invoked task reaches a final state.
        user = client.with(token: user.token)
        let all = Set(try await user.listTasks().map(\.id))
        #expect(all == Set(queued + [running.id, waiting.id]))
        for id in queued + [running.id] {
            let task = try await user.waitForTask(id, timeout: .seconds(120))
            #expect(task.state.isFinal, "\(id) is \(task.state.rawValue)")
            if queued.contains(id) {
                #expect(task.state == .finished, "\(id): \(task.reason ?? "")")
                #expect(task.result?.returnValue.hasPrefix("queued ") == true)
            } else {
                // The function had started: the task fails with the reason, or (if it had not) runs again.
                #expect(task.state == .finished || task.reason?.contains("worker") == true, "\(task.state): \(task.reason ?? "")")
            }
        }
        #expect(try await user.getTask(waiting.id).state == .approved)
        _ = try await user.invokeTask(waiting.id)
        #expect(try await user.waitForTask(waiting.id).state == .finished)

        // SIGTERM stops it gracefully.
        server.terminate()
        server.waitUntilExit()
        #expect(server.terminationStatus == 0)
    }
}
