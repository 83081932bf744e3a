import CloisterTestSupport
import Foundation

/// Runs the real `cloister` binary as a user does: arguments, standard input (a pipe or a
/// terminal), environment; its exit status, standard output and error, and how long it took.
enum CommandRunner {
    struct Run: Sendable {
        let status: Int32
        let output: String
        let error: String
        let seconds: Double
    }

    /// Runs `cloister <arguments>` with `input` on a pipe, on a thread of its own (never on the
    /// cooperative pool the in-process servers of other tests need).
    static func cloister(_ arguments: [String], input: String = "", environment: [String: String] = [:]) async throws -> Run {
        try await onThread { try run(arguments, environment: environment) { stdin in
            stdin.write(Data(input.utf8))
            try stdin.close()
        } }
    }

    /// Runs `cloister <arguments>` with a pseudo-terminal as standard input and error: `converse`
    /// gets what the terminal shows so far, each time it ends in ": ", and answers with what to
    /// type next (nil: not a prompt it answers). The terminal's whole transcript comes back as
    /// `error`.
    static func cloisterOnTerminal(
        _ arguments: [String], environment: [String: String] = [:], converse: @escaping @Sendable (String) -> String?
    ) async throws -> Run {
        try await onThread {
            // posix_openpt, unlockpt and ptsname, by hand (Glibc's module does not export them):
            // Linux's TIOCSPTLCK = _IOW('T', 0x31, int) and TIOCGPTN = _IOR('T', 0x30, unsigned int).
            let (TIOCSPTLCK, TIOCGPTN): (UInt, UInt) = (0x4004_5431, 0x8004_5430)
            let master = open("/dev/ptmx", O_RDWR | O_NOCTTY)
            var unlock: Int32 = 0
            var number: UInt32 = 0
            guard master >= 0, ioctl(master, UInt(TIOCSPTLCK), &unlock) == 0, ioctl(master, UInt(TIOCGPTN), &number) == 0 else {
                throw CocoaError(.fileReadUnknown)
            }
            let slave = open("/dev/pts/\(number)", O_RDWR | O_NOCTTY)
            guard slave >= 0 else { throw CocoaError(.fileReadUnknown) }
            defer { close(master) }
            let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: true)
            let started = ContinuousClock.now
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-out-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: output) }
            let process = Foundation.Process()
            process.executableURL = CloisterExecutable.url
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
            process.standardInput = terminal
            process.standardError = terminal
            process.standardOutput = try FileHandle(forWritingTo: output)
            try process.run()
            try terminal.close()
            var transcript = ""
            var answered = 0
            var buffer = [UInt8](repeating: 0, count: 4096)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 100) > 0 {
                    let count = read(master, &buffer, buffer.count)
                    if count <= 0 { break }  // EIO: the process closed its end
                    transcript += String(decoding: buffer[0..<count], as: UTF8.self)
                }
                // Answer each prompt once, after it has been shown in full.
                if transcript.hasSuffix(": ") {
                    let prompts = transcript.components(separatedBy: ": ").count - 1
                    if prompts > answered, let reply = converse(transcript) {
                        answered = prompts
                        _ = reply.withCString { write(master, $0, strlen($0)) }
                    }
                }
                if !process.isRunning {
                    // What it wrote last reaches the master through the tty layer's work queue,
                    // possibly after the process ended: read until the terminal is quiet or closed.
                    while poll(&poller, 1, 500) > 0 {
                        let count = read(master, &buffer, buffer.count)
                        if count <= 0 { break }
                        transcript += String(decoding: buffer[0..<count], as: UTF8.self)
                    }
                    break
                }
            }
            if process.isRunning { process.terminate() }  // it still waits for input: fail, never hang
            process.waitUntilExit()
            let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
            return Run(status: process.terminationStatus, output: printed, error: transcript, seconds: Self.seconds(since: started))
        }
    }

    private static func run(_ arguments: [String], environment: [String: String], feed: (FileHandle) throws -> Void) throws -> Run {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (outputPath, errorPath) = (folder.appendingPathComponent("out"), folder.appendingPathComponent("err"))
        _ = FileManager.default.createFile(atPath: outputPath.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errorPath.path, contents: nil)
        let process = Foundation.Process()
        process.executableURL = CloisterExecutable.url
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = try FileHandle(forWritingTo: outputPath)
        process.standardError = try FileHandle(forWritingTo: errorPath)
        let started = ContinuousClock.now
        try process.run()
        try feed(stdin.fileHandleForWriting)
        process.waitUntilExit()
        return Run(
            status: process.terminationStatus, output: try String(contentsOf: outputPath, encoding: .utf8),
            error: try String(contentsOf: errorPath, encoding: .utf8), seconds: seconds(since: started))
    }

    private static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    private static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
