import AsyncHTTPClient
import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import NIOSSL
import Testing

/// The real `cloister` binary: `serve` beside a separate `worker`, HTTPS, and the client subcommands.
@Suite("cloister serve, worker and the client commands")
struct ServerProcessTests {
    static func folder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// Runs `cloister <arguments>` with `input` on standard input; its status and standard output.
    /// The wait happens on a thread of its own, never on the cooperative pool the in-process servers of other tests need.
    static func cloister(_ arguments: [String], input: String = "", environment: [String: String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try runCloister(arguments, input: input, environment: environment) })
            }.start()
        }
    }

    private static func runCloister(_ arguments: [String], input: String, environment: [String: String]) throws -> (status: Int32, output: String) {
        let process = Foundation.Process()
        process.executableURL = CloisterExecutable.url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    @Test("a separate `cloister worker` runs the tasks of `serve --workers 0`; a killed worker's task is settled")
    func separateWorker() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0"])
        defer { kill(server.processIdentifier, SIGKILL) }
        let (_, owner, user) = try await client.standardUsers()
        let echo = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "from a worker")]))
        let spin = try await owner.registerFunction(RegisterFunctionRequest(
            name: "spin", executorType: "wasm", payload: Data(try RestartTests.spinner(seconds: 30)).base64EncodedString()))
        let workerArguments = ["worker", "--data", folder + "/data", "--workers", "1", "--stale-after", "2", "--password-cost", "4"]
            + (try await TestDatabase.arguments(folder: folder))

        let task = try await user.createTask(CreateTaskRequest(functionId: echo.id, executor: "builtin"))
        _ = try await user.invokeTask(task.id)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await user.getTask(task.id).state == .staged)  // no worker yet
        var worker = try ServerProcess.launch(workerArguments)
        let done = try await user.waitForTask(task.id, timeout: .seconds(60))
        #expect(done.state == .finished && done.result?.returnValue == "from a worker")

        let long = try await user.createTask(CreateTaskRequest(functionId: spin.id, executor: "wasmkit"))
        _ = try await user.invokeTask(long.id)
        let deadline = ContinuousClock.now + .seconds(60)
        while try await user.getTask(long.id).state != .running, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        kill(worker.processIdentifier, SIGKILL)
        worker.waitUntilExit()
        // The server's recovery settles it: failed (its function had started) or queued again.
        let settleBy = ContinuousClock.now + .seconds(60)
        var state = try await user.getTask(long.id).state
        while state == .running, ContinuousClock.now < settleBy {
            try await Task.sleep(for: .milliseconds(100))
            state = try await user.getTask(long.id).state
        }
        #expect(state == .failed || state == .staged)
        if state == .staged {
            _ = try await user.cancelTask(long.id)
        }
        worker = try ServerProcess.launch(workerArguments)
        defer { kill(worker.processIdentifier, SIGKILL) }
        let again = try await user.createTask(CreateTaskRequest(functionId: echo.id, executor: "builtin"))
        _ = try await user.invokeTask(again.id)
        #expect(try await user.waitForTask(again.id, timeout: .seconds(60)).state == .finished)
        worker.terminate()
        worker.waitUntilExit()
        #expect(worker.terminationStatus == 0)
    }

    @Test("with a certificate the API is served over TLS only")
    func https() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try SelfSignedCertificate.make(in: folder)
        let (server, plain) = try await ServerProcess.start(
            folder: folder, arguments: ["--tls-cert", folder + "/cert.pem", "--tls-key", folder + "/key.pem"], scheme: "https")
        defer { kill(server.processIdentifier, SIGKILL) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(folder + "/cert.pem"))
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        let secure = CloisterClient(baseURL: plain.baseURL, httpClient: http)
        let health = try await secure.health()
        #expect(health.status == "ok")
        _ = try await secure.login(id: "admin", password: TestServer.adminPassword)
        // The CLI trusts the self-signed certificate given with --ca-file.
        let environment = ["XDG_CONFIG_HOME": folder + "/config", "CLOISTER_PASSWORD": TestServer.adminPassword]
        let login = try await Self.cloister(["login", "--url", plain.baseURL, "--user", "admin", "--ca-file", folder + "/cert.pem"], environment: environment)
        #expect(login.status == 0)
        let users = try await Self.cloister(["user", "list"], environment: environment)
        #expect(users.status == 0 && users.output.contains("\"admin\""))
        let clear = CloisterClient(baseURL: plain.baseURL.replacingOccurrences(of: "https://", with: "http://"), httpClient: http)
        await #expect(throws: (any Error).self) { _ = try await clear.health() }
        try await http.shutdown()
    }

    @Test("login keeps the token in the config folder (0600); the subcommands run a task end to end")
    func clientCommands() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let environment = ["XDG_CONFIG_HOME": folder + "/config", "CLOISTER_PASSWORD": TestServer.adminPassword]
        func run(_ arguments: [String], input: String = "") async throws -> String {
            let (status, output) = try await Self.cloister(arguments, input: input, environment: environment)
            #expect(status == 0, "cloister \(arguments.joined(separator: " ")) exited \(status): \(output)")
            return output
        }
        func json(_ text: String) -> [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
        }
        _ = try await run(["login", "--url", client.baseURL, "--user", "admin"])
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/config/cloister/session.json")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        _ = try await run(["user", "register", "--id", "fo", "--role", "FunctionOwner"], input: "password-1\n")
        _ = try await run(["user", "register", "--id", "mgr", "--role", "DataOwnerManager-x"], input: "password-1\n")
        _ = try await run(["login", "--url", client.baseURL, "--user", "fo", "--password-stdin"], input: "password-1\n")
        let function = json(try await run(["function", "register", "--name", "builtin-echo", "--executor-type", "builtin", "--argument", "message=hi"]))
        let functionId = try #require(function["id"] as? String)
        let fetcher = json(try await run([
            "function", "register", "--name", "net-fetch", "--executor-type", "wasm", "--payload", try TestGuests.path("functions/net_fetch").path,
            "--connect", "203.0.113.0/24:443", "--connect", "db.example.com:5432",
        ]))
        let connect = (fetcher["network"] as? [String: Any])?["connect"] as? [[String: Any]] ?? []
        let destinations = connect.map { entry -> String in "\(entry["host"] as? String ?? ""):\(entry["port"] as? Int ?? -1)" }
        #expect(destinations == ["203.0.113.0/24:443", "db.example.com:5432"])
        let malformed = try await Self.cloister(
            ["function", "register", "--name", "x", "--executor-type", "wasm", "--connect", "db.example.com"], environment: environment)
        #expect(malformed.status == 64, "a --connect without a port is a usage error: \(malformed)")
        _ = try await run(["login", "--url", client.baseURL, "--user", "mgr", "--password-stdin"], input: "password-1\n")
        let task = json(try await run(["task", "create", "--function", functionId, "--executor", "builtin", "--arg", "message=from the CLI"]))
        let taskId = try #require(task["id"] as? String)
        _ = try await run(["task", "invoke", taskId])
        let done = json(try await run(["task", "wait", taskId]))
        #expect(done["state"] as? String == "Finished")
        #expect((done["result"] as? [String: Any])?["return_value"] as? String == "from the CLI")
        // An encrypted file under the data root, registered with keygen's key file and encrypt's tag.
        let keyFile = folder + "/key.txt"
        try await run(["keygen", "--scheme", "aes-gcm-256"]).write(toFile: keyFile, atomically: true, encoding: .utf8)
        try "secret line\n".write(toFile: folder + "/plain.txt", atomically: true, encoding: .utf8)
        let stored = folder + "/data/files/secret.enc"
        let tag = try await run(["encrypt", "--scheme", "aes-gcm-256", "--key-file", keyFile, "-i", folder + "/plain.txt", "-o", stored, "--print-tag"])
        let input = json(try await run([
            "data", "register-input", "--url", "file://" + stored, "--scheme", "aes-gcm-256", "--key-file", keyFile,
            "--tag", tag.trimmingCharacters(in: .whitespacesAndNewlines),
        ]))
        #expect((input["id"] as? String)?.hasPrefix("input-") == true)
        let refused = try await Self.cloister(["audit"], environment: environment)
        #expect(refused.status == 1)
        _ = try await run(["logout"])
        let afterLogout = try await Self.cloister(["task", "list"], environment: environment)
        #expect(afterLogout.status != 0)
    }
}
