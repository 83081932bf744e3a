import CloisterAPI
import CloisterClient
import Foundation
import Platform
import Testing

/// Every bad input answers 400 naming the field (or the status its kind calls for) and changes nothing.
@Suite("Bad input")
struct BadInputTests {
    static func errorOf(_ answer: (status: Int, body: Data)) -> (status: Int, code: String, message: String) {
        let error = try? WireFormat.decoder().decode(APIErrorBody.self, from: answer.body)
        return (answer.status, error?.error.code ?? "?", error?.error.message ?? String(decoding: answer.body, as: UTF8.self))
    }

    @Test("wrong types, unknown fields, missing fields, bad values and oversized payloads are 400s naming the field")
    func badBodies() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            _ = try await admin.registerUser(RegisterUserRequest(id: "fo", password: "password-1", role: "FunctionOwner"))
            let owner = try await server.session("fo", "password-1")
            let cases: [(path: String, body: String, field: String)] = [
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","surprise":1}"#, "surprise"),
                ("/v1/functions", #"{"name":7,"executor_type":"builtin"}"#, "name"),
                ("/v1/functions", #"{"executor_type":"builtin"}"#, "name"),
                ("/v1/functions", #"{"name":"x","executor_type":"java"}"#, "executor_type"),
                ("/v1/functions", #"{"name":"nope","executor_type":"builtin"}"#, "name"),
                ("/v1/functions", #"{"name":"f","executor_type":"wasm","payload":"aGVsbG8="}"#, "payload"),
                ("/v1/functions", #"{"name":"f","executor_type":"python","payload":"%%%"}"#, "payload"),
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","arguments":[{"key":"a","extra":true}]}"#, "arguments[0].extra"),
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","arguments":[{"key":"a"},{"key":"a"}]}"#, "arguments[1].key"),
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","inputs":[{"name":"../x"}]}"#, "inputs[0].name"),
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","usage_quota":-1}"#, "usage_quota"),
                ("/v1/functions", #"{"name":"builtin-echo","executor_type":"builtin","public":"yes"}"#, "public"),
                ("/v1/users", #"{"id":"bad id","password":"password-1","role":"DataOwner-x"}"#, "id"),
                ("/v1/users", #"{"id":"ok","password":"short","role":"DataOwnerManager-x"}"#, "password"),
                ("/v1/users", #"{"id":"ok","password":"password-1","role":"King"}"#, "role"),
            ]
            var failures: [String] = []
            for item in cases {
                let client = item.path == "/v1/users" ? owner : owner
                let answer = Self.errorOf(try await client.send(.POST, item.path, body: Data(item.body.utf8)))
                if answer.status != 400 || answer.code != "bad_request" || !answer.message.contains("'\(item.field)'") {
                    failures.append("\(item.body): \(answer)")
                }
            }
            // A payload over the limit, and a body over the server's limit.
            let big = Data(count: 33 << 20).base64EncodedString()
            let oversized = Self.errorOf(try await owner.send(
                .POST, "/v1/functions", body: Data(#"{"name":"f","executor_type":"python","payload":"\#(big)"}"#.utf8)))
            if oversized.status != 400 || !oversized.message.contains("'payload'") { failures.append("oversized payload: \(oversized)") }
            let huge = Self.errorOf(try await owner.send(.POST, "/v1/functions", body: Data(count: 50 << 20)))
            if huge.status != 413 || huge.code != "payload_too_large" { failures.append("huge body: \(huge)") }
            let notJSON = Self.errorOf(try await owner.send(.POST, "/v1/functions", body: Data("{".utf8)))
            if notJSON.status != 400 { failures.append("not JSON: \(notJSON)") }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            // Nothing was stored.
            #expect(try await owner.listFunctions().isEmpty)
            #expect(try await admin.listUsers().map(\.id).sorted() == ["admin", "fo"])
        }
    }

    @Test("data URLs outside the data roots, bad keys and bad IVs are refused")
    func badData() async throws {
        try await TestServer.with(workers: 0) { server in
            let (_, _, user) = try await server.client.standardUsers()
            let root = server.platform.configuration.dataRoots[0]
            try FileManager.default.createSymbolicLink(atPath: root + "/escape", withDestinationPath: "/etc")
            let key = String(repeating: "00", count: 32)
            let cases: [(String, String)] = [
                (#"{"url":"file:///etc/passwd","scheme":"cloister-file-256","key":"\#(key)"}"#, "url"),
                (#"{"url":"file://\#(root)/../../etc/passwd","scheme":"cloister-file-256","key":"\#(key)"}"#, "url"),
                (#"{"url":"file://\#(root)/escape/passwd","scheme":"cloister-file-256","key":"\#(key)"}"#, "url"),
                (#"{"url":"ftp://host/x","scheme":"cloister-file-256","key":"\#(key)"}"#, "url"),
                (#"{"url":"data:,x","scheme":"rot13","key":"\#(key)"}"#, "scheme"),
                (#"{"url":"data:,x","scheme":"cloister-file-256","key":"abcd"}"#, "key"),
                (#"{"url":"data:,x","scheme":"cloister-file-256","key":"zz"}"#, "key"),
                (#"{"url":"data:,x","scheme":"aes-gcm-128","key":"\#(String(repeating: "00", count: 16))"}"#, "iv"),
                (#"{"url":"data:,x","scheme":"cloister-file-256","key":"\#(key)","tag":"xyz"}"#, "tag"),
            ]
            var failures: [String] = []
            for (body, field) in cases {
                let answer = Self.errorOf(try await user.send(.POST, "/v1/inputs", body: Data(body.utf8)))
                if answer.status != 400 || !answer.message.contains("'\(field)'") { failures.append("\(body): \(answer)") }
            }
            let rawOutput = Self.errorOf(try await user.send(.POST, "/v1/outputs", body: Data(#"{"scheme":"raw","key":""}"#.utf8)))
            if rawOutput.status != 400 || !rawOutput.message.contains("'scheme'") { failures.append("raw output: \(rawOutput)") }
            let notMine = Self.errorOf(try await user.send(
                .POST, "/v1/outputs", body: Data(#"{"scheme":"cloister-file-256","key":"\#(key)","owners":["someone"]}"#.utf8)))
            if notMine.status != 400 || !notMine.message.contains("'owners'") { failures.append("owners without the caller: \(notMine)") }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            #expect(try await user.listInputs().isEmpty)
            #expect(try await user.listOutputs().isEmpty)
        }
    }

    @Test("task arguments: exactly the overwritable ones; ownership: every required file, no undeclared one")
    func badTasks() async throws {
        try await TestServer.with(workers: 0) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let function = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin",
                arguments: [
                    FunctionArgumentSpec(key: "message", defaultValue: nil, allowOverwrite: true),
                    FunctionArgumentSpec(key: "fixed", defaultValue: "1", allowOverwrite: false),
                ],
                inputs: [FunctionFileSpec(name: "needed"), FunctionFileSpec(name: "spare", optional: true)]))
            let id = function.id
            let cases: [(String, String)] = [
                (#"{"function_id":"\#(id)","executor":"builtin","function_arguments":{"message":"m","fixed":"2"},"inputs_ownership":{"needed":["mgr"]}}"#, "function_arguments.fixed"),
                (#"{"function_id":"\#(id)","executor":"builtin","function_arguments":{"message":"m","other":"2"},"inputs_ownership":{"needed":["mgr"]}}"#, "function_arguments.other"),
                (#"{"function_id":"\#(id)","executor":"builtin","inputs_ownership":{"needed":["mgr"]}}"#, "function_arguments.message"),
                (#"{"function_id":"\#(id)","executor":"builtin","function_arguments":{"message":"m"}}"#, "inputs_ownership.needed"),
                (#"{"function_id":"\#(id)","executor":"builtin","function_arguments":{"message":"m"},"inputs_ownership":{"needed":["mgr"],"ghost":["mgr"]}}"#, "inputs_ownership.ghost"),
                (#"{"function_id":"\#(id)","executor":"cpython","function_arguments":{"message":"m"},"inputs_ownership":{"needed":["mgr"]}}"#, "executor"),
                (#"{"function_id":"\#(id)","executor":"gpu","function_arguments":{"message":"m"},"inputs_ownership":{"needed":["mgr"]}}"#, "executor"),
                (#"{"function_id":"\#(id)","executor":"builtin","function_arguments":{"message":[1]},"inputs_ownership":{"needed":["mgr"]}}"#, "function_arguments.message"),
            ]
            var failures: [String] = []
            for (body, field) in cases {
                let answer = Self.errorOf(try await user.send(.POST, "/v1/tasks", body: Data(body.utf8)))
                if answer.status != 400 || !answer.message.contains("'\(field)'") { failures.append("\(body): \(answer)") }
            }
            let missing = Self.errorOf(try await user.send(
                .POST, "/v1/tasks", body: Data(#"{"function_id":"function-none","executor":"builtin"}"#.utf8)))
            if missing.status != 404 { failures.append("unknown function: \(missing)") }
            #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
            #expect(try await user.listTasks().isEmpty)
            // A good one: the optional input left out, the fixed argument at its default.
            let task = try await user.createTask(CreateTaskRequest(
                functionId: id, functionArguments: ["message": "m"], executor: "builtin", inputsOwnership: ["needed": ["mgr"]]))
            #expect(task.functionArguments == ["message": "m", "fixed": "1"])
            #expect(task.state == .created)
        }
    }

    @Test("tokens: bad, expired-by-password-change and missing tokens are 401; logins fail alike for unknown users")
    func tokens() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            for token in ["", "garbage", admin.token!.dropLast(2) + "xx"] {
                let answer = Self.errorOf(try await server.client.send(.GET, "/v1/functions", token: String(token)))
                #expect(answer.status == 401 && answer.code == "unauthorized")
            }
            let wrong = Self.errorOf(try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"admin","password":"nope-nope"}"#.utf8)))
            let unknown = Self.errorOf(try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"ghost","password":"nope-nope"}"#.utf8)))
            #expect(wrong.status == 401 && unknown.status == 401 && wrong.message == unknown.message)
            try await admin.changePassword("admin", old: TestServer.adminPassword, new: "a-new-password")
            let stale = Self.errorOf(try await admin.send(.GET, "/v1/users"))
            #expect(stale.status == 401)
            _ = try await server.session("admin", "a-new-password")
            let health = try await server.client.health()
            #expect(health.status == "ok")
            let document = try JSONSerialization.jsonObject(with: try await server.client.openAPIDocument()) as? [String: Any]
            #expect(document?["openapi"] as? String != nil)
        }
    }

    @Test("the first start makes an admin with a random password shown once; a restart keeps everything")
    func firstStart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-first-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = PlatformConfiguration(dataFolder: folder)
        configuration.adminPassword = nil
        configuration.passwordCost = 4
        configuration.workers = 0
        let database = try await TestDatabase.make()
        if let database { configuration.database = database }
        defer { Task { await TestDatabase.drop(database) } }
        let first = try await Platform.open(configuration)
        let admin = try #require(try await first.bootstrapAdmin())
        #expect(admin.generated && admin.password.count == 24)
        _ = try await first.accounts.login(LoginRequest(id: "admin", password: admin.password))
        try await first.shutdown()
        let second = try await Platform.open(configuration)
        #expect(try await second.bootstrapAdmin() == nil)
        _ = try await second.accounts.login(LoginRequest(id: "admin", password: admin.password))
        try await second.shutdown()
    }

    @Test("a usage quota stops invocations past it (429); a disabled function takes no new task (409)")
    func quotaAndDisable() async throws {
        try await TestServer.with { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let function = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin",
                arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")], usageQuota: 1))
            let first = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
            let second = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
            _ = try await user.invokeTask(first.id)
            let done = try await user.waitForTask(first.id)
            #expect(done.state == .finished && done.result?.returnValue == "hi")
            let refused = Self.errorOf(try await user.send(.POST, "/v1/tasks/\(second.id)/invoke"))
            #expect(refused.status == 429 && refused.code == "quota_exceeded")
            #expect(try await user.getTask(second.id).state == .approved)
            let usage = try await owner.functionUsage(function.id)
            #expect(usage.invocations == 1 && usage.remaining == 0 && usage.tasksByState["Finished"] == 1)
            _ = try await owner.disableFunction(function.id)
            let disabled = Self.errorOf(try await user.send(
                .POST, "/v1/tasks", body: Data(#"{"function_id":"\#(function.id)","executor":"builtin"}"#.utf8)))
            #expect(disabled.status == 409 && disabled.message.contains("disabled"))
        }
    }
}
