import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import ProtectedFiles
import Testing

/// Mistakes found when a function, a file or a task is registered — before anyone is asked to
/// approve anything — each a 400 naming the field, with nothing registered.
@Suite("early validation: a mistake is refused when it is made, not after every party approved")
struct EarlyValidationTests {
    /// The error of `call`, which must fail.
    static func refusal<T>(_ call: () async throws -> T) async throws -> CloisterClientError {
        do {
            let value = try await call()
            Issue.record("expected a refusal, got \(value)")
            throw CloisterClientError(status: 0, code: "accepted", message: "accepted")
        } catch let error as CloisterClientError {
            return error
        }
    }

    /// `error` is a 400 naming `field`, whose message says `words`.
    static func expect(_ error: CloisterClientError, field: String, saying words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(error.status == 400 && error.code == "bad_request", "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.hasPrefix("field '\(field)': "), "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(words), "\(error.message)", sourceLocation: sourceLocation)
    }

    static let key = String(repeating: "5a", count: 32)

    @Test("a file:// input: a wrong key, a wrong IV, a tag of the wrong size or value, a missing file, another scheme")
    func inputs() async throws {
        try await TestServer.with(workers: 0) { server in
            let (_, _, user) = try await server.client.standardUsers()
            let files = server.folder + "/files"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            let sealed = try SealedData.sealed("alice\nbob\n", key: Self.key)
            try Data(sealed.bytes).write(to: URL(fileURLWithPath: files + "/list.cf"))
            let url = "file://" + files + "/list.cf"
            let other = String(repeating: "a5", count: 32)

            Self.expect(
                try await Self.refusal { try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-256", key: other)) },
                field: "key", saying: "does not open with this key")
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-256", key: Self.key, tag: String(repeating: "00", count: 16)))
                }, field: "tag", saying: "a cloister-file-256 tag is 32 bytes (64 hex digits), got 16")
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-256", key: Self.key, tag: String(repeating: "00", count: 32)))
                }, field: "tag", saying: "is not the tag of the file at the URL")
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(url: "file://" + files + "/missing.cf", scheme: "cloister-file-256", key: Self.key))
                }, field: "url", saying: "no file at")
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-128", key: String(repeating: "5a", count: 16)))
                }, field: "scheme", saying: "is cloister-file-256, not cloister-file-128")

            // aes-gcm: the IV is part of what opens the file.
            let iv = String(repeating: "0c", count: 12)
            let gcm = try SealedData.sealed("secret", key: Self.key, scheme: .aesGCM256, iv: iv)
            try Data(gcm.bytes).write(to: URL(fileURLWithPath: files + "/secret.gcm"))
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(
                        url: "file://" + files + "/secret.gcm", scheme: "aes-gcm-256", key: Self.key, iv: String(repeating: "0d", count: 12)))
                }, field: "key", saying: "a wrong key or IV")
            Self.expect(
                try await Self.refusal {
                    try await user.registerInput(RegisterInputRequest(
                        url: "file://" + files + "/secret.gcm", scheme: "aes-gcm-256", key: Self.key, iv: iv, tag: String(repeating: "00", count: 32)))
                }, field: "tag", saying: "a aes-gcm-256 tag is 16 bytes")
            #expect(try await user.listInputs().isEmpty, "a refused input was registered")

            // The right key, IV and tags are accepted.
            _ = try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-256", key: Self.key, tag: Hex.encode(sealed.tag)))
            _ = try await user.registerInput(RegisterInputRequest(
                url: "file://" + files + "/secret.gcm", scheme: "aes-gcm-256", key: Self.key, iv: iv, tag: Hex.encode(gcm.tag)))
            #expect(try await user.listInputs().count == 2)
        }
    }

    @Test("an output: an owner who cannot own data, a URL naming a file that exists")
    func outputs() async throws {
        try await TestServer.with(workers: 0) { server in
            let (admin, _, user) = try await server.client.standardUsers()
            _ = try await admin.registerUser(RegisterUserRequest(id: "bob", password: "password-1", role: "DataOwner-x"))
            Self.expect(
                try await Self.refusal {
                    try await user.registerOutput(RegisterOutputRequest(scheme: "cloister-file-256", key: Self.key, owners: ["mgr", "bbo"]))
                }, field: "owners", saying: "bbo is not a user who can own data")
            Self.expect(
                try await Self.refusal {
                    try await user.registerOutput(RegisterOutputRequest(scheme: "cloister-file-256", key: Self.key, owners: ["mgr", "fo"]))
                }, field: "owners", saying: "fo is not a user who can own data")
            let files = server.folder + "/files"
            try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            try Data("kept".utf8).write(to: URL(fileURLWithPath: files + "/result.cf"))
            Self.expect(
                try await Self.refusal {
                    try await user.registerOutput(RegisterOutputRequest(url: "file://" + files + "/result.cf", scheme: "cloister-file-256", key: Self.key))
                }, field: "url", saying: "exists already; an output never replaces a file")
            #expect(try await user.listOutputs().isEmpty)
            #expect(try Data(contentsOf: URL(fileURLWithPath: files + "/result.cf")) == Data("kept".utf8))
            _ = try await user.registerOutput(RegisterOutputRequest(scheme: "cloister-file-256", key: Self.key, owners: ["mgr", "bob"]))
        }
    }

    @Test("a function: a builtin declared without what it reads, a Python syntax error, a script without entrypoint, bytes that are no WebAssembly module")
    func functions() async throws {
        try await TestServer.with(workers: 0) { server in
            let (_, owner, _) = try await server.client.standardUsers()
            Self.expect(
                try await Self.refusal { try await owner.registerFunction(RegisterFunctionRequest(name: "builtin-echo", executorType: "builtin")) },
                field: "arguments", saying: "builtin-echo reads the argument message")
            Self.expect(
                try await Self.refusal {
                    try await owner.registerFunction(RegisterFunctionRequest(
                        name: "builtin-ordered-set-intersect", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending")],
                        inputs: [FunctionFileSpec(name: "input_data1")], outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
                }, field: "inputs", saying: "reads input input_data2")
            let broken = "def entrypoint(argv):\n    return 'a' +\n"
            Self.expect(
                try await Self.refusal {
                    try await owner.registerFunction(RegisterFunctionRequest(
                        name: "broken", executorType: "python", payload: Data(broken.utf8).base64EncodedString()))
                }, field: "payload", saying: "a Python syntax error at line 2")
            Self.expect(
                try await Self.refusal {
                    try await owner.registerFunction(RegisterFunctionRequest(
                        name: "no-entry", executorType: "python", payload: Data("print('hi')\n".utf8).base64EncodedString()))
                }, field: "payload", saying: "defines no entrypoint(argv)")
            Self.expect(
                try await Self.refusal {
                    try await owner.registerFunction(RegisterFunctionRequest(
                        name: "not-wasm", executorType: "wasm", payload: Data("#!/bin/sh\necho hi\n".utf8).base64EncodedString()))
                }, field: "payload", saying: "not a WebAssembly module")
            #expect(try await owner.listFunctions().isEmpty, "a refused function was registered")

            // An update is checked the same way; the function stays as it was.
            let good = try await owner.registerFunction(RegisterFunctionRequest(
                name: "good", executorType: "python", payload: Data("def entrypoint(argv):\n    return 'ok'\n".utf8).base64EncodedString()))
            Self.expect(
                try await Self.refusal { try await owner.updateFunction(good.id, UpdateFunctionRequest(payload: Data(broken.utf8).base64EncodedString())) },
                field: "payload", saying: "a Python syntax error at line 2")
            #expect(try await owner.getFunction(good.id).payloadSha256 == good.payloadSha256)
        }
    }

    @Test("a task naming an owner who does not exist (or cannot own data) is refused at creation, naming the file; no task is made")
    func taskOwners() async throws {
        try await TestServer.with(workers: 0) { server in
            let (admin, owner, user) = try await server.client.standardUsers()
            _ = try await admin.registerUser(RegisterUserRequest(id: "bob", password: "password-1", role: "DataOwner-x"))
            let intersect = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-ordered-set-intersect", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending")],
                inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
                outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
            func create(_ second: String, output: String = "bob") async throws -> TaskInfo {
                try await user.createTask(CreateTaskRequest(
                    functionId: intersect.id, executor: "builtin", inputsOwnership: ["input_data1": ["mgr"], "input_data2": [second]],
                    outputsOwnership: ["output_result1": ["mgr"], "output_result2": [output]]))
            }
            Self.expect(try await Self.refusal { try await create("bbo") }, field: "inputs_ownership.input_data2", saying: "bbo is not a user who can own data")
            Self.expect(try await Self.refusal { try await create("bob", output: "fo") }, field: "outputs_ownership.output_result2", saying: "fo is not a user")
            #expect(try await user.listTasks().isEmpty, "a refused task was created")
            let task = try await create("bob")
            #expect(task.state == .created && task.participants == ["bob", "mgr"])
        }
    }
}
