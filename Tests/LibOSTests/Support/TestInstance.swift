import CloisterTestSupport
import Foundation
import LibOS
import WAT

/// Assembles WebAssembly text.
func wat2wasmBytes(_ text: String) throws -> [UInt8] { try wat2wasm(text) }

/// A LibOS kernel on a fresh ``InstanceFolder``, for one test.
final class TestInstance: @unchecked Sendable {
    let folder: InstanceFolder
    let kernel: Kernel
    let logSink = LogSink.memory()

    /// Output of one run.
    struct Run {
        var status: WaitStatus
        var stdout: String
        var stderr: String
        /// The `FAIL` lines the C guests print (each check prints `ok` or `FAIL`).
        var failures: [String] { stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.map(String.init) }
    }

    /// A kernel on `engine` (nil: `CLOISTER_ENGINE`, else the default: `make test` runs the
    /// suites once on each engine).
    init(_ options: InstanceFolder.Options = .init(), logLevel: LogLevel? = nil, engine: EngineKind? = nil, cacheDirectory: String? = nil) throws {
        folder = try InstanceFolder(options)
        kernel = try Kernel(instanceDirectory: folder.path, logLevel: logLevel, logSink: logSink, engine: engine, cacheDirectory: cacheDirectory)
    }

    var directory: URL { folder.directory }
    var dataDirectory: URL { folder.dataDirectory }

    @discardableResult
    func install(wat: String, as name: String) throws -> String { try folder.install(wat: wat, as: name) }

    @discardableResult
    func install(bytes: [UInt8], as name: String) throws -> String { try folder.install(bytes: bytes, as: name) }

    /// Creates and runs `path` with its output captured.
    func run(_ path: String, _ arguments: [String] = [], environment: [String] = [], stdin: String = "") throws -> Run {
        let stdout = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderr = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        let input = directory.appendingPathComponent("stdin-\(UUID().uuidString)")
        try Data(stdin.utf8).write(to: input)
        _ = FileManager.default.createFile(atPath: stdout.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderr.path, contents: nil)
        let inputHandle = try FileHandle(forReadingFrom: input)
        let outputHandle = try FileHandle(forWritingTo: stdout)
        let errorHandle = try FileHandle(forWritingTo: stderr)
        defer {
            try? inputHandle.close()
            try? outputHandle.close()
            try? errorHandle.close()
        }
        let stdio = Kernel.StandardIO(
            input: inputHandle.fileDescriptor, output: outputHandle.fileDescriptor, error: errorHandle.fileDescriptor)
        let pid = try kernel.createProcess(path: path, arguments: [path] + arguments, environment: environment, stdio: stdio)
        let status = try kernel.exec(pid: pid)
        return Run(
            status: status,
            stdout: (try? String(contentsOf: stdout, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderr, encoding: .utf8)) ?? "")
    }
}

extension TestInstance {
    /// Creates `path` and execs it on a new thread; `finished` holds its status once it ends.
    func start(
        _ path: String, _ arguments: [String] = [], stdio: Kernel.StandardIO = .inherit, limits: ProcessLimits.Overrides = .none
    ) throws -> (pid: Int32, finished: Finished) {
        let pid = try kernel.createProcess(path: path, arguments: [path] + arguments, stdio: stdio, limits: limits)
        let finished = Finished()
        let kernel = self.kernel
        Thread { finished.set(try? kernel.exec(pid: pid)) }.start()
        return (pid, finished)
    }
}


/// A host pipe whose read end a guest gets as standard input (or whose write end as output).
final class HostPipe {
    let readEnd: Int32
    let writeEnd: Int32

    init() {
        var fds: [Int32] = [0, 0]
        precondition(pipe(&fds) == 0)
        readEnd = fds[0]
        writeEnd = fds[1]
    }

    deinit {
        close(readEnd)
        close(writeEnd)
    }

    func send(_ text: String) { _ = text.withCString { write(writeEnd, $0, strlen($0)) } }

    /// Reads what has arrived, waiting up to `seconds` for `marker` to appear.
    func receive(until marker: String, within seconds: Double = 60) -> String {
        receive(within: seconds) { $0.contains(marker) }
    }

    /// Reads what has arrived, waiting up to `seconds` until `isComplete` holds for it.
    func receive(within seconds: Double = 60, until isComplete: (String) -> Bool) -> String {
        var text = ""
        let deadline = Date().addingTimeInterval(seconds)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isComplete(text) && Date() < deadline {
            var request = pollfd(fd: readEnd, events: Int16(POLLIN), revents: 0)
            if poll(&request, 1, 100) > 0 {
                let count = read(readEnd, &buffer, buffer.count)
                if count <= 0 { break }
                text += String(decoding: buffer[..<count], as: UTF8.self)
            }
        }
        return text
    }
}
