import Foundation
import ProtectedFiles
@testable import Executors

/// A temporary folder for one test, removed when released.
final class Workspace {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("executors-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    func path(_ name: String) -> String {
        directory.appendingPathComponent(name).path
    }

    /// Writes `bytes` to the file `name`; its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
        return path(name)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        try write(name, Array(text.utf8))
    }

    func read(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path(name))))
    }

    func readText(_ name: String) throws -> String {
        String(decoding: try read(name), as: UTF8.self)
    }

    func exists(_ name: String) -> Bool {
        FileManager.default.fileExists(atPath: path(name))
    }

    /// Runs the builtin `function` over plaintext files: `inputs` (name → content) are written to
    /// `in-<name>`, `outputs` are staged at `out-<name>`. The result and the outputs that were written.
    func run(
        _ function: String, _ arguments: FunctionArguments = [:], inputs: [String: String] = [:], outputs: [String] = []
    ) throws -> (result: String, outputs: [String: String]) {
        var inputPaths: [String: String] = [:]
        for (name, content) in inputs { inputPaths[name] = try write("in-\(name)", content) }
        let runtime = FunctionRuntime(
            plaintextInputs: inputPaths,
            plaintextOutputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0, path("out-\($0)")) }))
        let result = try BuiltinExecutor().execute(name: function, arguments: arguments, payload: [], runtime: runtime)
        var written: [String: String] = [:]
        for name in outputs where exists("out-\(name)") { written[name] = try readText("out-\(name)") }
        return (result, written)
    }
}

/// The description of the error `body` throws, or nil if it throws none.
func failure<T>(_ body: () throws -> T) -> String? {
    do {
        _ = try body()
        return nil
    } catch {
        return String(describing: error)
    }
}

/// Random key bytes for `scheme`.
func randomKey(_ scheme: Scheme) -> [UInt8] {
    (0..<scheme.keySize).map { _ in UInt8.random(in: 0...255) }
}
