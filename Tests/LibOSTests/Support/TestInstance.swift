import Foundation
import LibOS
import WAT

/// Assembles WebAssembly text.
func wat2wasmBytes(_ text: String) throws -> [UInt8] { try wat2wasm(text) }

/// A LibOS instance in a fresh temporary folder, for one test.
///
/// Mounts: `/` ramfs, `/bin` hostfs on the guest folder (plus `extra-bin/` for programs a test
/// writes), `/data` hostfs on `<instance>/data`, `/tmp` ramfs, `/dev` devfs — preopened as
/// descriptors 3 to 7 in that order.
final class TestInstance: @unchecked Sendable {
    let directory: URL
    let kernel: Kernel
    let logSink = LogSink.memory()

    /// Output of one run.
    struct Run {
        var status: WaitStatus
        var stdout: String
        var stderr: String
        /// The `ok`/`FAIL` lines the C guests print.
        var failures: [String] { stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.map(String.init) }
    }

    struct Options {
        var debuggable = true
        var logLevel: LogLevel? = nil
        var heapSize = "32MB"
        var userSpaceSize = "256MB"
        var stackSize = "1MB"
        var maxProcesses = 16
        var entryPoints = ["/bin", "/xbin"]
        var untrusted = ["TERM", "LANG"]
        var extraMounts = ""
    }

    init(_ options: Options = Options()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-test-\(UUID().uuidString)")
        let guests = try GuestPrograms.directory()
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("data"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("extra-bin"), withIntermediateDirectories: true)
        let config = """
            {
              "resource_limits": { "user_space_size": "\(options.userSpaceSize)", "max_num_of_processes": \(options.maxProcesses), "max_num_of_threads": 32 },
              "process": { "default_stack_size": "\(options.stackSize)", "default_heap_size": "\(options.heapSize)" },
              "entry_points": [\(options.entryPoints.map { "\"\($0)\"" }.joined(separator: ", "))],
              "env": { "default": ["HOME=/root", "PATH=/bin"], "untrusted": [\(options.untrusted.map { "\"\($0)\"" }.joined(separator: ", "))] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": "\(guests.path)" },
                { "target": "/data", "type": "hostfs", "source": "./data" },
                { "target": "/tmp", "type": "ramfs" },
                { "target": "/dev", "type": "devfs" },
                { "target": "/xbin", "type": "hostfs", "source": "./extra-bin" }\(options.extraMounts)
              ],
              "metadata": { "debuggable": \(options.debuggable) }
            }
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("Cloister.json"))
        kernel = try Kernel(instanceDirectory: directory.path, logLevel: options.logLevel, logSink: logSink)
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Host path of the `/data` mount.
    var dataDirectory: URL { directory.appendingPathComponent("data") }

    /// Assembles `wat` and stores it as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    func install(wat: String, as name: String) throws -> String {
        try install(bytes: try wat2wasm(wat), as: name)
    }

    /// Stores `bytes` as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    func install(bytes: [UInt8], as name: String) throws -> String {
        try Data(bytes).write(to: directory.appendingPathComponent("extra-bin/\(name).wasm"))
        return "/xbin/\(name).wasm"
    }

    /// Creates and runs `path` with its output captured.
    func run(_ path: String, _ arguments: [String] = [], environment: [String] = [], stdin: String = "") throws -> Run {
        let stdout = directory.appendingPathComponent("stdout-\(UUID().uuidString)")
        let stderr = directory.appendingPathComponent("stderr-\(UUID().uuidString)")
        let input = directory.appendingPathComponent("stdin-\(UUID().uuidString)")
        try Data(stdin.utf8).write(to: input)
        FileManager.default.createFile(atPath: stdout.path, contents: nil)
        FileManager.default.createFile(atPath: stderr.path, contents: nil)
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
    func start(_ path: String, stdio: Kernel.StandardIO = .inherit) throws -> (pid: Int32, finished: Finished) {
        let pid = try kernel.createProcess(path: path, stdio: stdio)
        let finished = Finished()
        let kernel = self.kernel
        Thread { finished.set(try? kernel.exec(pid: pid)) }.start()
        return (pid, finished)
    }
}

/// Guests written in WebAssembly text, shared by several tests.
enum GuestSnippets {
    /// Sleeps for an hour in `poll_oneoff`, holding `pages` pages of linear memory.
    static func sleeper(pages: Int = 1) -> String {
        """
        (module
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") \(pages))
          (data (i32.const 8) "\\00")
          (data (i32.const 16) "\\01\\00\\00\\00")
          (data (i32.const 24) "\\00\\68\\89\\12\\46\\03\\00\\00")
          (func (export "_start") (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))
        """
    }
}

/// Waits until `condition` holds, checking every 10 ms, for at most `seconds`.
func eventually(within seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
