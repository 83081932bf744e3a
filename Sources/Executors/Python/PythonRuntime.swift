import Crypto
import Foundation
import LibOS
import Synchronization

/// A CPython for WASI (a ``PythonDistribution``), fetched and checked by its script (`make`
/// runs it), and its interpreters started ahead.
///
/// Start-up is most of a small function's cost, so the runtime keeps, per set of limits,
/// interpreters that have already started — and imported what the distribution preloads — and
/// wait for their request (``PythonInterpreter``); each serves one run, and after the run a
/// replacement starts in the background. The compiled module itself is shared by every
/// interpreter (LibOS's program and artifact caches).
public final class PythonRuntime: Sendable {
    /// Which CPython.
    public let distribution: PythonDistribution
    /// The room for a run's files in an interpreter's sandbox (staged before the request).
    static let fileSpace: UInt64 = 4 << 30

    /// The folder holding the distribution, when one was found.
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

    /// The runtime of `distribution` in `directory`, keeping `poolSize` interpreters started per
    /// set of limits (0: start each one on demand).
    public init(_ distribution: PythonDistribution = .cpython, directory: String?, poolSize: Int = 1, sandbox: SandboxConfiguration = .default) {
        self.distribution = distribution
        self.directory = directory
        self.poolSize = poolSize
        self.sandbox = sandbox
    }

    /// The CPython 3.11 runtime `make` fetched (``locate(_:)``).
    public static let shared = PythonRuntime(.cpython, directory: locate(.cpython))

    /// The scientific runtime `make` fetched (``locate(_:)``).
    public static let scientific = PythonRuntime(.scientific, directory: locate(.scientific))

    /// Where `distribution` is: its `directoryVariable` when set, else its
    /// `defaultRelativeDirectory` under the folder of the running executable (or of
    /// `libcloister_pal.so`) or a parent of it (`.build/release/cloister` finds
    /// `.build/runtimes/python`; never the current folder: `InstalledRuntimes`).
    public static func locate(_ distribution: PythonDistribution) -> String? {
        if let configured = ProcessInfo.processInfo.environment[distribution.directoryVariable], !configured.isEmpty { return configured }
        let program = InstalledRuntimes.locate(distribution.defaultRelativeDirectory + "/" + distribution.programFile)
        return program.map { String($0.dropLast(distribution.programFile.count + 1)) }
    }

    /// Checks, once, that the runtime is there and is the published file.
    func verify() throws(ExecutorError) {
        let result = state.withLock { state -> Result<Void, ExecutorError> in
            if let verified = state.verified { return verified }
            let verified = Self.check(distribution, in: directory)
            state.verified = verified
            return verified
        }
        try result.get()
    }

    private static func check(_ distribution: PythonDistribution, in directory: String?) -> Result<Void, ExecutorError> {
        let fix = "run `make` (\(distribution.fetchScript)) or set \(distribution.directoryVariable) to the folder it fills"
        guard let directory else {
            return .failure(.unavailable("\(distribution.name) was not found; \(fix)"))
        }
        for (file, sha256) in distribution.checkedFiles.sorted(by: { $0.key < $1.key }) {
            guard let data = FileManager.default.contents(atPath: directory + "/" + file) else {
                return .failure(.unavailable("\(distribution.name) was not found (no \(directory)/\(file)); \(fix)"))
            }
            let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
            guard digest == sha256 else {
                return .failure(.unavailable("\(directory)/\(file) has SHA-256 \(digest), not the published \(sha256); \(fix)"))
            }
        }
        if distribution.needsHostImports { HostImports.register() }
        return .success(())
    }

    /// An interpreter for one run under `limits`: a started one when there is one, else one
    /// started now. Call ``refill(limits:)`` after the run.
    func interpreter(limits: FunctionLimits) throws(ExecutorError) -> PythonInterpreter {
        try verify()
        try checkFits(limits)
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
        try checkFits(limits)
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

    /// The distribution's own needs: its engine, its memory.
    private func checkFits(_ limits: FunctionLimits) throws(ExecutorError) {
        if let engines = distribution.engines {
            let engine: EngineKind
            do { engine = EngineSelection.granted(try EngineSelection.wanted(requested: sandbox.engine, configured: nil)) } catch {
                throw .unavailable(error.reason)
            }
            guard engines.contains(engine) else {
                throw .unavailable("\(distribution.name) runs on \(engines.map(\.rawValue).sorted().joined(separator: ", ")) only, not on \(engine)")
            }
        }
        guard limits.memory >= distribution.minimumMemory else {
            throw .unavailable("\(distribution.name) needs a memory limit of at least \(ByteSize.format(distribution.minimumMemory))")
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
