import CloisterAPI
import CloisterClient
import Foundation
import ProtectedFiles
import WAT

/// What the security tests share: encrypted files, a WebAssembly function that stages its files
/// and ends (or sleeps), and a task run end to end by one data owner.
enum SecurityFixtures {
    /// A WASI command that returns at once.
    static func noop() throws -> [UInt8] {
        try wat2wasm(#"(module (memory (export "memory") 1) (func (export "_start")))"#)
    }

    /// `module` made `count` bytes larger by a custom section (which no engine reads): a large
    /// payload that is still a valid module.
    static func padded(_ module: [UInt8], by count: Int, with byte: UInt8) -> [UInt8] {
        let name = Array("padding".utf8)
        var size = UInt32(1 + name.count + count)
        var leb: [UInt8] = []
        repeat {
            var piece = UInt8(size & 0x7F)
            size >>= 7
            if size != 0 { piece |= 0x80 }
            leb.append(piece)
        } while size != 0
        return module + [0x00] + leb + [UInt8(name.count)] + name + [UInt8](repeating: byte, count: count)
    }

    /// `plaintext` encrypted with a fresh key: the stored bytes, the key and the tag in hex.
    static func encrypted(
        _ plaintext: [UInt8], scheme: Scheme = .cloisterFile128, key given: [UInt8]? = nil, iv: [UInt8]? = nil
    ) throws -> (bytes: [UInt8], key: String, tag: String) {
        let key = given ?? (0..<scheme.keySize).map { _ in UInt8.random(in: 0...255) }
        let output = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: scheme, key: key, iv: iv, output: output)
        try writer.write(plaintext)
        let tag = try writer.finish()
        return (output.bytes, Hex.encode(key), Hex.encode(tag))
    }

    /// Registers a public wasm function running `module` that declares `inputs` and `outputs`.
    static func function(
        _ owner: CloisterClient, module: [UInt8], inputs: [String] = [], outputs: [String] = []
    ) async throws -> Function {
        try await owner.registerFunction(RegisterFunctionRequest(
            name: "security-\(UUID().uuidString.prefix(8))", executorType: "wasm", payload: Data(module).base64EncodedString(),
            inputs: inputs.map { FunctionFileSpec(name: $0) }, outputs: outputs.map { FunctionFileSpec(name: $0) }))
    }

    /// Creates a task of `function` as `user` (its only party), assigns the files and invokes it.
    static func invoke(
        _ user: CloisterClient, userId: String, _ function: Function, inputs: [String: String] = [:], outputs: [String: String] = [:]
    ) async throws -> TaskInfo {
        let task = try await user.createTask(CreateTaskRequest(
            functionId: function.id, executor: "wasmkit", inputsOwnership: inputs.mapValues { _ in [userId] },
            outputsOwnership: outputs.mapValues { _ in [userId] }))
        if !inputs.isEmpty || !outputs.isEmpty { _ = try await user.assignData(task.id, inputs: inputs, outputs: outputs) }
        return try await user.invokeTask(task.id)
    }

    /// Runs a task as in `invoke` and waits for its end.
    static func run(
        _ user: CloisterClient, userId: String, _ function: Function, inputs: [String: String] = [:], outputs: [String: String] = [:]
    ) async throws -> TaskInfo {
        let task = try await invoke(user, userId: userId, function, inputs: inputs, outputs: outputs)
        return try await user.waitForTask(task.id, timeout: .seconds(120))
    }

    /// The audit entries that record a claim of `task` by a worker.
    static func claims(of task: String, admin: CloisterClient) async throws -> Int {
        try await admin.audit(object: task, limit: 1000).filter { $0.action == "task.state" && $0.detail.hasPrefix("Running on") }.count
    }
}
