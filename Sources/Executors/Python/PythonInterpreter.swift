import Foundation
import LibOS
import Synchronization

/// One CPython process in a sandbox of its own, started ahead of its request: it runs the
/// driver (``PythonDriver``) up to the point where it waits for one request on its standard
/// input, then serves that one request and ends. Never reused, so no state leaks between runs.
final class PythonInterpreter: @unchecked Sendable {
    let sandbox: FunctionSandbox
    let limits: FunctionLimits
    private let pid: Int32
    /// The write end of the interpreter's standard input: one line starts the request.
    private let requestDescriptor: Int32
    /// The read end, kept open until the end so that a write never meets a closed pipe (SIGPIPE).
    private let requestReader: Int32
    private let log: OutputCollector
    private let completion = Completion()

    /// How the process ended, once it has: set by its host thread.
    private final class Completion: Sendable {
        private let result = Mutex<Result<WaitStatus, Errno>?>(nil)
        private let semaphore = DispatchSemaphore(value: 0)

        func finish(_ value: Result<WaitStatus, Errno>) {
            result.withLock { $0 = value }
            semaphore.signal()
        }

        /// Waits for the end and returns how it ended.
        func wait() -> Result<WaitStatus, Errno> {
            semaphore.wait()
            semaphore.signal()
            return result.withLock { $0 } ?? .failure(Errno.io)
        }
    }

    /// Starts an interpreter of `runtime` under `limits` on a host thread of its own.
    init(runtime: PythonRuntime, limits: FunctionLimits) throws(ExecutorError) {
        self.limits = limits
        let distribution = runtime.distribution
        guard let directory = runtime.directory else { throw .unavailable("\(distribution.name) was not found") }
        sandbox = try FunctionSandbox(
            limits: limits, inputBytes: PythonRuntime.fileSpace, configuration: runtime.sandbox,
            mounts: distribution.mounts.map {
                MountConfig(
                    target: $0.target, type: .hostfs, source: directory + "/" + $0.source,
                    options: ["read_only": "true", "preopen_only": $0.preopenOnly ? "true" : "false"])
            },
            entryPoints: [(distribution.programPath as NSString).deletingLastPathComponent],
            environment: ["HOME=/tmp", "PYTHONPATH=\(PythonDriver.libraryDirectory)", "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"])
        for folder in [PythonDriver.libraryDirectory, PythonDriver.payloadDirectory, PythonDriver.taskDirectory] {
            do { try sandbox.kernel.createGuestDirectory(folder) } catch {
                throw .unavailable("cannot prepare the Python sandbox: \(error.reason.isEmpty ? error.name : error.reason)")
            }
        }
        for (name, text) in PythonDriver.files(preloading: distribution.preloadedModules) {
            try sandbox.writeFile(PythonDriver.libraryDirectory + "/" + name, Array(text.utf8))
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .unavailable("cannot create a pipe for the Python request: errno \(errno)") }
        requestDescriptor = fds[1]
        requestReader = fds[0]
        log = try OutputCollector(limit: FunctionSandbox.streamLimit)
        do {
            pid = try sandbox.createProcess(
                path: distribution.programPath, arguments: distribution.argumentsBeforeDriver + [PythonDriver.driverPath], entry: distribution.entry,
                stdio: Kernel.StandardIO(input: fds[0], output: log.writeDescriptor, error: log.writeDescriptor))
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        let thread = Thread { [sandbox, pid, completion] in
            let result: Result<WaitStatus, Errno>
            do throws(Errno) { result = .success(try sandbox.kernel.exec(pid: pid)) } catch { result = .failure(error) }
            completion.finish(result)
        }
        thread.stackSize = 8 << 20
        thread.name = "cloister-python"
        thread.start()
    }

    deinit {
        try? sandbox.kernel.kill(pid: pid, signal: .kill)
        _ = completion.wait()
        close(requestDescriptor)
        close(requestReader)
    }

    /// Waits until the interpreter waits for its request (or `deadline` passes, or it ended);
    /// whether it is ready.
    func waitUntilReady(deadline: Date) -> Bool {
        log.waitFor(PythonDriver.readyMarker, until: deadline)
    }

    /// How a request ended.
    struct Outcome {
        var status: WaitStatus
        var log: [UInt8]
        var timedOut: Bool
    }

    /// Sends the request (`/task/request.json`, then a line on standard input) and waits for the
    /// interpreter to end, killing it at the deadline (which counts from now) or when `runtime`
    /// is canceled.
    func serve(argv: [String], runtime: FunctionRuntime) throws(ExecutorError) -> Outcome {
        let request = (try? JSONSerialization.data(withJSONObject: ["argv": argv])) ?? Data("{\"argv\":[]}".utf8)
        try sandbox.writeFile(PythonDriver.requestPath, [UInt8](request))
        let line: [UInt8] = [0x0a]
        runtime.noteEngine(sandbox.kernel.engineKind)
        let kill: @Sendable () -> Void = { [weak kernel = sandbox.kernel, pid] in try? kernel?.kill(pid: pid, signal: .kill) }
        let watchdog = Watchdog(after: limits.timeout, kill)
        defer { watchdog.stop() }
        try runtime.whileCancelable(kill) { () throws(ExecutorError) in
            line.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let count = write(requestDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if count < 0, errno == EINTR { continue }
                    if count <= 0 { break }  // the interpreter already ended: its status says why
                    offset += count
                }
            }
            _ = completion.wait()
        }
        let timedOut = watchdog.stop()
        let result = completion.wait()
        let ended: WaitStatus
        switch result {
        case .success(let value): ended = value
        case .failure(let error):
            throw error == .nomem
                ? .outOfMemory(error.reason)
                : .unavailable("cannot start the Python runtime: \(error.reason.isEmpty ? error.name : error.reason)")
        }
        // What the interpreter wrote before it was ready (nothing, normally) is not the run's.
        var written = log.finish().bytes[...]
        if let marker = written.firstRange(of: PythonDriver.readyMarker) { written = written[marker.upperBound...] }
        return Outcome(status: ended, log: Array(written), timedOut: timedOut)
    }
}
