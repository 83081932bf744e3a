import CloisterTestSupport
import Foundation

/// A host program run by a test, with its output captured in files and a deadline.
final class HostCommand: @unchecked Sendable {
    /// What a finished run produced.
    struct Result {
        /// The exit code, or 128 + N when signal N ended the program.
        var status: Int32
        var stdout: String
        var stderr: String
        /// Whether the deadline passed and the program was killed.
        var timedOut: Bool
        /// The `FAIL` lines the test programs print.
        var failures: [String] { stdout.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.map(String.init) }
    }

    private let process = Foundation.Process()
    private let folder: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    /// Starts `executable` with `arguments`; `environment` replaces the inherited one when given.
    init(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, stdin: String = "") throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-pal-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        stdoutURL = folder.appendingPathComponent("stdout")
        stderrURL = folder.appendingPathComponent("stderr")
        let stdinURL = folder.appendingPathComponent("stdin")
        try Data(stdin.utf8).write(to: stdinURL)
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = executable
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardInput = try FileHandle(forReadingFrom: stdinURL)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Runs a program to its end (or its deadline) and returns what it produced.
    static func run(_ executable: URL, _ arguments: [String], environment: [String: String]? = nil, stdin: String = "", timeout: Double = 120) throws -> Result {
        try HostCommand(executable, arguments, environment: environment, stdin: stdin).wait(timeout: timeout)
    }

    /// What the program has written to stdout so far.
    var stdoutSoFar: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }

    /// Sends `signal` to the program.
    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the program to end, killing it after `timeout` seconds.
    func wait(timeout: Double) -> Result {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() >= deadline {
                timedOut = true
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                break
            }
            usleep(10_000)
        }
        process.waitUntilExit()
        let status = process.terminationReason == .uncaughtSignal ? 128 + process.terminationStatus : process.terminationStatus
        return Result(
            status: status,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "",
            timedOut: timedOut)
    }

    /// The absolute path of `tool` on `PATH`.
    static func tool(_ name: String) throws -> URL {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        throw PALTestError("\(name) is not on PATH")
    }
}

