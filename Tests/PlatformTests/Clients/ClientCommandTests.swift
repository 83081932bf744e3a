import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import Testing

/// The client commands as a user meets them: no server, the wrong scheme or certificate, a port
/// in use, a task that cannot progress, password prompts, help and exit statuses. Every test runs
/// the real `cloister` binary against a real `cloister serve`.
@Suite("the cloister client commands never leave a user guessing")
struct ClientCommandTests {
    static func folder() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// An environment with a config folder of its own (the session) and the admin's password.
    static func environment(_ folder: String, password: String = TestServer.adminPassword) -> [String: String] {
        ["XDG_CONFIG_HOME": folder + "/config", "CLOISTER_PASSWORD": password]
    }

    /// The CLI does not retry a refused connection: it answers at once (0.01 s on an idle
    /// machine). The bound below only catches a hang; it is generous because the suite runs in
    /// parallel, and a first start of the binary on a loaded machine once took 14.6 s.
    static let hangBound: Double = 60

    @Test("no server: a plain sentence and exit 3 without retrying, for login and for a kept session")
    func serverDown() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let url = "http://127.0.0.1:\(try LoopbackPort.closed())"
        let login = try await CommandRunner.cloister(["login", "--url", url, "--user", "admin"], environment: Self.environment(folder))
        #expect(login.status == 3)
        #expect(login.error == "cloister: no Cloister server at \(url): connection refused (is `cloister serve` running there? check --url)\n")
        #expect(login.seconds <= Self.hangBound)
        // A session kept from a server that has gone away.
        let session = ClientSessionFile(url: url, user: "admin", token: "x", expiresAt: Date().addingTimeInterval(3600))
        try session.write(into: folder + "/config")
        let list = try await CommandRunner.cloister(["task", "list"], environment: Self.environment(folder))
        #expect(list.status == 3 && list.error.contains("no Cloister server at \(url): connection refused"))
        #expect(list.seconds <= Self.hangBound)
        #expect(list.output.isEmpty)
    }

    @Test("TLS mistakes: an untrusted certificate, http:// against HTTPS, https:// against HTTP")
    func tlsMistakes() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        _ = try SelfSignedCertificate.make(in: folder)
        let (secure, secureClient) = try await ServerProcess.start(
            folder: folder + "/tls", arguments: ["--tls-cert", folder + "/cert.pem", "--tls-key", folder + "/key.pem"], scheme: "https")
        defer { kill(secure.processIdentifier, SIGKILL) }
        let environment = Self.environment(folder)
        let untrusted = try await CommandRunner.cloister(["login", "--url", secureClient.baseURL, "--user", "admin"], environment: environment)
        #expect(untrusted.status == 3)
        #expect(untrusted.error.contains("the certificate of \(secureClient.baseURL) is not trusted: give its certificate with --ca-file"), "\(untrusted.error)")
        let plainURL = secureClient.baseURL.replacingOccurrences(of: "https://", with: "http://")
        let plainToTLS = try await CommandRunner.cloister(["login", "--url", plainURL, "--user", "admin"], environment: environment)
        #expect(plainToTLS.status == 3)
        #expect(plainToTLS.error.contains("if it serves HTTPS, use an https:// URL"), "\(plainToTLS.error)")
        #expect(!plainToTLS.error.contains("HTTPClientError"))
        let trusted = try await CommandRunner.cloister(
            ["login", "--url", secureClient.baseURL, "--user", "admin", "--ca-file", folder + "/cert.pem"], environment: environment)
        #expect(trusted.status == 0, "\(trusted.error)")

        let (plain, plainClient) = try await ServerProcess.start(folder: folder + "/plain")
        defer { kill(plain.processIdentifier, SIGKILL) }
        let tlsToPlain = try await CommandRunner.cloister(
            ["login", "--url", plainClient.baseURL.replacingOccurrences(of: "http://", with: "https://"), "--user", "admin"],
            environment: environment)
        #expect(tlsToPlain.status == 3)
        #expect(tlsToPlain.error.contains("does not speak TLS: use an http:// URL") || tlsToPlain.error.contains("use an http:// URL"), "\(tlsToPlain.error)")
        #expect(!tlsToPlain.error.contains("BoringSSL"))
    }

    @Test("a port in use is one sentence naming it; the first server is unharmed")
    func portInUse() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (first, client) = try await ServerProcess.start(folder: folder + "/first")
        defer { kill(first.processIdentifier, SIGKILL) }
        let port = try #require(URL(string: client.baseURL)?.port)
        let second = try await CommandRunner.cloister(
            ["serve", "--data", folder + "/second", "--port", String(port), "--password-cost", "4"],
            environment: ["CLOISTER_ADMIN_PASSWORD": TestServer.adminPassword])
        #expect(second.status == 1)
        #expect(second.error.contains("cloister: 127.0.0.1:\(port) is in use (another `cloister serve`?): stop that server or choose another --port"), "\(second.error)")
        #expect(!second.error.contains("errno"))
        #expect(try await client.health().status == "ok")
    }

    @Test("login reuses the kept session's server; a refused login exits 1, an expired session 2")
    func sessionURL() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let environment = Self.environment(folder)
        #expect(try await CommandRunner.cloister(["login", "--url", client.baseURL, "--user", "admin"], environment: environment).status == 0)
        let again = try await CommandRunner.cloister(["login", "--user", "admin"], environment: environment)
        #expect(again.status == 0)
        #expect(again.output.hasPrefix("logged in to \(client.baseURL) as admin"), "\(again.output)")
        let wrong = try await CommandRunner.cloister(["login", "--user", "admin"], environment: Self.environment(folder, password: "wrong password"))
        #expect(wrong.status == 1 && wrong.error == "cloister: wrong user id or password\n", "\(wrong.error)")
        var session = try ClientSessionFile.read(from: folder + "/config")
        session.token = "not-a-token"
        try session.write(into: folder + "/config")
        let expired = try await CommandRunner.cloister(["user", "list"], environment: environment)
        #expect(expired.status == 2)
        #expect(expired.error.contains("log in again (cloister login --user admin)"), "\(expired.error)")
    }

    @Test("task wait reports each state, stops at once when the task waits for you, and writes no audit entry per poll")
    func taskWait() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let (admin, owner, user) = try await client.standardUsers()
        _ = try await admin.registerUser(RegisterUserRequest(id: "other", password: "password-1", role: "DataOwner-x"))
        let echo = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")]))
        let environment = ["XDG_CONFIG_HOME": folder + "/config", "CLOISTER_PASSWORD": "password-1"]
        #expect(try await CommandRunner.cloister(["login", "--url", client.baseURL, "--user", "mgr"], environment: environment).status == 0)

        // Never invoked: it waits for its creator, who is the one waiting.
        let idle = try await user.createTask(CreateTaskRequest(functionId: echo.id, executor: "builtin"))
        let stuck = try await CommandRunner.cloister(["task", "wait", idle.id], environment: environment)
        #expect(stuck.status == 5)
        #expect(stuck.error.contains("task \(idle.id) is Approved and waits for you to invoke it (cloister task invoke \(idle.id))"), "\(stuck.error)")
        #expect(stuck.seconds < Self.hangBound, "it stopped at once, not at its 600 s timeout")

        // Waiting for another party: reported, then the timeout (exit 6) with what it waits for.
        let intersect = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-ordered-set-intersect", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending")],
            inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
            outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
        let shared = try await user.createTask(CreateTaskRequest(
            functionId: intersect.id, executor: "builtin", inputsOwnership: ["input_data1": ["other"], "input_data2": ["other"]],
            outputsOwnership: ["output_result1": ["other"], "output_result2": ["other"]]))
        let before = try await admin.audit(object: shared.id, limit: 1000).count
        let waited = try await CommandRunner.cloister(["task", "wait", shared.id, "--timeout", "3"], environment: environment)
        #expect(waited.status == 6)
        #expect(waited.error.contains("cloister: \(shared.id) is Created: waiting for other to assign input input_data1; other to assign input input_data2"), "\(waited.error)")
        #expect(waited.error.contains("is still Created after 3 s (waiting for other to assign"), "\(waited.error)")
        // Long polls: an audit entry per call, and a call per change of state or per 30 s, not per poll.
        let after = try await admin.audit(object: shared.id, limit: 1000).count
        #expect(after - before <= 3, "\(after - before) audit entries for a 3 s wait")

        // Invoked: the states as they come, the task on standard output, exit 0.
        _ = try await user.invokeTask(idle.id)
        let done = try await CommandRunner.cloister(["task", "wait", idle.id], environment: environment)
        #expect(done.status == 0, "\(done.error)")
        #expect(done.output.contains("\"state\" : \"Finished\""))
        // A declined task ends Canceled: exit 4, with the reason.
        let declined = try await user.createTask(CreateTaskRequest(
            functionId: intersect.id, executor: "builtin", inputsOwnership: ["input_data1": ["mgr"], "input_data2": ["mgr"]],
            outputsOwnership: ["output_result1": ["mgr"], "output_result2": ["mgr"]]))
        let decline = try await CommandRunner.cloister(["task", "decline", declined.id], environment: environment)
        #expect(decline.status == 0 && decline.output.contains("\"reason\" : \"declined by mgr\""), "\(decline.error)")
        let canceled = try await CommandRunner.cloister(["task", "wait", declined.id], environment: environment)
        #expect(canceled.status == 4 && canceled.error.contains("is Canceled: declined by mgr"), "\(canceled.error)")
    }

    @Test("passwords come from a prompt that does not echo, from standard input, or from the environment")
    func passwordPrompts() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let environment = ["XDG_CONFIG_HOME": folder + "/config"]
        let secret = TestServer.adminPassword
        // Each answer goes to its own prompt only (an error's "Error: " ends in ": " too).
        let login = try await CommandRunner.cloisterOnTerminal(["login", "--url", client.baseURL, "--user", "admin"], environment: environment) { shown in
            shown.hasSuffix("Password for admin at \(client.baseURL): ") ? secret + "\n" : nil
        }
        #expect(login.status == 0, "\(login.error)")
        #expect(login.error.contains("Password for admin at \(client.baseURL): "))
        #expect(!login.error.contains(secret), "the password was echoed: \(login.error)")
        #expect(login.output.hasPrefix("logged in to \(client.baseURL) as admin"))

        // A new user's password is asked twice; two different answers register nobody.
        let mismatch = try await CommandRunner.cloisterOnTerminal(["user", "register", "--id", "carol", "--role", "DataOwner-x"], environment: environment) { shown in
            shown.hasSuffix("Again: ") ? "something else\n" : shown.hasSuffix("new user carol: ") ? "carol's passphrase\n" : nil
        }
        #expect(mismatch.status == 64 && mismatch.error.contains("the two passwords differ"), "\(mismatch.error)")
        let admin = try await client.session("admin", secret)
        await #expect(throws: CloisterClientError.self) { _ = try await admin.getUser("carol") }
        let registered = try await CommandRunner.cloisterOnTerminal(["user", "register", "--id", "carol", "--role", "DataOwner-x"], environment: environment) { shown in
            shown.hasSuffix("Again: ") || shown.hasSuffix("new user carol: ") ? "carol's passphrase\n" : nil
        }
        #expect(registered.status == 0 && !registered.error.contains("passphrase"), "\(registered.error)")
        _ = try await client.session("carol", "carol's passphrase")
        // From standard input (a script) and from the environment.
        let piped = try await CommandRunner.cloister(
            ["user", "register", "--id", "dave", "--role", "DataOwner-x"], input: "dave's passphrase\n", environment: environment)
        #expect(piped.status == 0, "\(piped.error)")
        let fromEnvironment = try await CommandRunner.cloister(
            ["user", "register", "--id", "erin", "--role", "DataOwner-x"], environment: environment.merging(["CLOISTER_NEW_PASSWORD": "erin's passphrase"]) { _, new in new })
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.error)")
        _ = try await client.session("dave", "dave's passphrase")
        _ = try await client.session("erin", "erin's passphrase")
    }

    @Test("function update --json sends the file as it is: unknown fields and trailing commas are refused, naming them")
    func functionUpdateJSON() async throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (server, client) = try await ServerProcess.start(folder: folder)
        defer { kill(server.processIdentifier, SIGKILL) }
        let (_, owner, _) = try await client.standardUsers()
        let function = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")]))
        let environment = ["XDG_CONFIG_HOME": folder + "/config", "CLOISTER_PASSWORD": "password-1"]
        #expect(try await CommandRunner.cloister(["login", "--url", client.baseURL, "--user", "fo"], environment: environment).status == 0)
        let file = folder + "/update.json"
        try #"{"descripton": "a typo"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        let unknown = try await CommandRunner.cloister(["function", "update", function.id, "--json", file], environment: environment)
        #expect(unknown.status == 1)
        #expect(unknown.error.contains("field 'descripton': unknown field"), "\(unknown.error)")
        try "{\"description\": \"echoes\",\n}".write(toFile: file, atomically: true, encoding: .utf8)
        let trailing = try await CommandRunner.cloister(["function", "update", function.id, "--json", file], environment: environment)
        #expect(trailing.status == 1 && trailing.error.contains("trailing comma before '}' (line 2, column 1)"), "\(trailing.error)")
        #expect(try await owner.getFunction(function.id).description == "")
        try #"{"description": "echoes"}"#.write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try await CommandRunner.cloister(["function", "update", function.id, "--json", file], environment: environment).status == 0)
        #expect(try await owner.getFunction(function.id).description == "echoes")
    }

    @Test("--version, help for every option, worker's help its own, the exit statuses listed")
    func helpAndVersion() async throws {
        let version = try await CommandRunner.cloister(["--version"])
        #expect(version.status == 0 && version.output == "0.7.0\n")
        let dump = try await CommandRunner.cloister(["--experimental-dump-help"])
        let tool = try #require(try JSONSerialization.jsonObject(with: Data(dump.output.utf8)) as? [String: Any])
        var missing: [String] = []
        func walk(_ command: [String: Any], path: String) {
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let names = (argument["names"] as? [[String: Any]])?.compactMap { $0["name"] as? String } ?? []
                if names.contains("help") || names.contains("version") { continue }
                if (argument["abstract"] as? String ?? "").isEmpty {
                    missing.append("\(path) \(names.first ?? argument["valueName"] as? String ?? "?")")
                }
            }
            // ArgumentParser's own `help` subcommand is not ours to document.
            for sub in command["subcommands"] as? [[String: Any]] ?? [] where sub["commandName"] as? String != "help" {
                walk(sub, path: path + " " + (sub["commandName"] as? String ?? "?"))
            }
        }
        walk(try #require(tool["command"] as? [String: Any]), path: "cloister")
        #expect(missing.isEmpty, "options without help: \(missing)")
        // Help is wrapped to the terminal: compare it with its whitespace folded.
        let folded = { (text: String) in text.split(whereSeparator: \.isWhitespace).joined(separator: " ") }
        let serve = folded(try await CommandRunner.cloister(["serve", "--help"]).output)
        let worker = folded(try await CommandRunner.cloister(["worker", "--help"]).output)
        #expect(!worker.contains("`cloister worker` processes run them") && !worker.contains("The address to listen on"))
        #expect(!worker.contains("--port") && !worker.contains("--tls-cert") && worker.contains("How many tasks this worker process runs at once"))
        #expect(serve.contains("The approval page is served at /"))
        let top = try await CommandRunner.cloister(["--help"])
        for line in ["  2  not logged in", "  3  no answer from the server", "  5  task wait: the task waits for your action", "  64 the command line is wrong"] {
            #expect(top.output.contains(line), "cloister --help lacks \(line)")
        }
    }

    @Test("a worker started at the same moment as `serve --workers 0` on a new data folder shares its keys and runs its tasks")
    func simultaneousStart() async throws {
        for round in 0..<3 {
            let folder = try Self.folder()
            defer { try? FileManager.default.removeItem(atPath: folder) }
            let data = folder + "/data"
            // On PostgreSQL (make test's second run) both use the database ServerProcess.start will.
            let database = try await TestDatabase.arguments(folder: folder)
            let worker = try ServerProcess.launch(
                ["worker", "--data", data, "--workers", "1", "--stale-after", "2", "--password-cost", "4"] + database, log: folder + "/worker.log")
            defer { kill(worker.processIdentifier, SIGKILL) }
            let (server, client) = try await ServerProcess.start(folder: folder, arguments: ["--workers", "0"])
            defer { kill(server.processIdentifier, SIGKILL) }
            #expect(worker.isRunning, "round \(round): the worker died at start: \((try? String(contentsOfFile: folder + "/worker.log", encoding: .utf8)) ?? "")")
            let (_, owner, user) = try await client.standardUsers()
            let intersect = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-ordered-set-intersect", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending")],
                inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
                outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
            // The worker unwraps the data keys the server wrapped: one key-encryption key.
            let key = String(repeating: "ab", count: 32)
            let first = try await user.registerInput(RegisterInputRequest(url: try SealedData.url("a\nb\n", key: key), scheme: "cloister-file-256", key: key))
            let second = try await user.registerInput(RegisterInputRequest(url: try SealedData.url("b\n", key: key), scheme: "cloister-file-256", key: key))
            let output1 = try await user.registerOutput(RegisterOutputRequest(scheme: "cloister-file-256", key: key))
            let output2 = try await user.registerOutput(RegisterOutputRequest(scheme: "cloister-file-256", key: key))
            let task = try await user.createTask(CreateTaskRequest(
                functionId: intersect.id, executor: "builtin", inputsOwnership: ["input_data1": ["mgr"], "input_data2": ["mgr"]],
                outputsOwnership: ["output_result1": ["mgr"], "output_result2": ["mgr"]]))
            _ = try await user.assignData(
                task.id, inputs: ["input_data1": first.id, "input_data2": second.id], outputs: ["output_result1": output1.id, "output_result2": output2.id])
            _ = try await user.invokeTask(task.id)
            let done = try await user.waitForTask(task.id, timeout: .seconds(120))
            #expect(done.state == .finished, "round \(round): \(done.reason ?? "")")
        }
    }
}
