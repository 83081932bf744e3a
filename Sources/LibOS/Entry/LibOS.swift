/// The entry API: one LibOS instance per host process.
///
/// `initialize` → `createProcess` → `exec` → `destroy`, with `kill` from any thread. Every
/// failure is an ``Errno`` with the exact reason: initialize twice → `EEXIST`; any other call
/// before initialize → `EAGAIN`; not an entry point → `EACCES`; unknown pid → `ESRCH`; bad
/// argument → `EINVAL`; over a limit → `ENOMEM` or `EAGAIN`.
public enum LibOS {
    private static let lock = KernelLock()
    nonisolated(unsafe) private static var current: Kernel?

    /// Starts the instance in `instance` (a folder holding `Cloister.json`).
    /// `logLevel` is a level name (`off` … `trace`); `nil` reads `CLOISTER_LOG_LEVEL`.
    /// `engine` overrides the instance's engine (see ``Kernel/init(instanceDirectory:config:logLevel:logSink:engine:cacheDirectory:)``).
    public static func initialize(instance: String, logLevel: String? = nil, engine: EngineKind? = nil) throws(Errno) {
        var level: LogLevel?
        if let logLevel {
            guard let parsed = LogLevel(parsing: logLevel) else {
                throw Errno.inval.with(reason: "unknown log level \"\(logLevel)\"; use off, error, warn, info, debug or trace")
            }
            level = parsed
        }
        try lock.withLock { () throws(Errno) in
            if current != nil { throw Errno.exist.with(reason: "a LibOS instance is already initialized") }
            current = try Kernel(instanceDirectory: instance, logLevel: level, engine: engine)
        }
    }

    /// The engine the instance runs its guests on.
    public static var engine: EngineKind? { lock.withLock { current?.engineKind } }

    /// Whether an instance is initialized (and not yet destroyed).
    public static var isInitialized: Bool { lock.withLock { current != nil } }

    private static func kernel() throws(Errno) -> Kernel {
        guard let kernel = lock.withLock({ current }) else {
            throw Errno.again.with(reason: "the LibOS is not initialized")
        }
        return kernel
    }

    /// Creates a process for the program at `path`; see ``Kernel/createProcess(path:arguments:environment:stdio:limits:)``.
    public static func createProcess(
        path: String, argv: [String] = [], env: [String] = [], stdio: Kernel.StandardIO = .inherit,
        limits: ProcessLimits.Overrides = .none
    ) throws(Errno) -> Int32 {
        try kernel().createProcess(path: path, arguments: argv, environment: env, stdio: stdio, limits: limits)
    }

    /// Runs process `pid` until it ends and returns its wait status.
    public static func exec(pid: Int32) throws(Errno) -> WaitStatus {
        try kernel().exec(pid: pid)
    }

    /// Sends SIGKILL or SIGTERM to `pid` (-1: every process).
    public static func kill(pid: Int32, signal: Int32) throws(Errno) {
        try kernel().kill(pid: pid, signal: Signal(rawValue: signal))
    }

    /// Stops every process and ends the instance; `initialize` may be called again afterwards.
    public static func destroy() throws(Errno) {
        let kernel = try kernel()
        try kernel.shutdown()
        lock.withLock { current = nil }
    }
}

extension LibOS {
    /// Passes a SIGINT or SIGTERM that the host program itself received on to process `pid`,
    /// as a shell does for its foreground job. Other signals are `EPERM`.
    public static func forward(signal: Int32, to pid: Int32) throws(Errno) {
        let signal = Signal(rawValue: signal)
        guard signal == .interrupt || signal == .terminate else {
            throw Errno.perm.with(reason: "only SIGINT and SIGTERM are forwarded")
        }
        try kernel().deliver(signal, to: pid)
    }
}
