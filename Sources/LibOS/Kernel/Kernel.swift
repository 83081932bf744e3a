import Foundation

/// One LibOS instance: the mount table, the process table and the limits of one instance folder.
///
/// The kernel is the object behind the entry API (``LibOS``). Tests and embedders may create
/// several; the entry API keeps exactly one.
public final class Kernel: @unchecked Sendable {
    public let config: InstanceConfig
    public let instanceDirectory: String
    public let log: KernelLog
    let vfs: VirtualFileSystem

    let lock = KernelLock()
    private var processes: [Int32: Process] = [:]
    private var nextPID: Int32 = 1
    private var reservedMemory: UInt64 = 0
    private var isShutDown = false

    /// Starts an instance from `instanceDirectory/Cloister.json` (or from `config` when given).
    ///
    /// The log level is `logLevel`, else `CLOISTER_LOG_LEVEL`, else `off`; a release instance
    /// (`debuggable: false`) never logs.
    public init(instanceDirectory: String, config: InstanceConfig? = nil, logLevel: LogLevel? = nil, logSink: LogSink = .standardError) throws(Errno) {
        let directory = URL(fileURLWithPath: instanceDirectory).standardizedFileURL.path
        let loaded: InstanceConfig
        if let config {
            loaded = config
        } else {
            do {
                loaded = try InstanceConfig.load(instanceDirectory: directory)
            } catch {
                throw Errno.inval.with(reason: error.description)
            }
        }
        self.config = loaded
        self.instanceDirectory = directory
        var level = logLevel ?? ProcessInfo.processInfo.environment["CLOISTER_LOG_LEVEL"].flatMap(LogLevel.init(parsing:)) ?? .off
        if !loaded.debuggable { level = .off }
        self.log = KernelLog(level: level, sink: logSink)
        self.vfs = try VirtualFileSystem(
            mounts: loaded.mounts, instanceDirectory: directory, ramCapacity: loaded.resourceLimits.userSpaceSize,
            reportTamper: { [log] message in log.log(.error, message) })
        log.log(.info, "instance \(directory) started with \(loaded.mounts.count) mounts")
    }

    /// The standard streams of a new process: host descriptors it reads and writes.
    public struct StandardIO: Sendable {
        public var input: Int32
        public var output: Int32
        public var error: Int32
        public init(input: Int32 = 0, output: Int32 = 1, error: Int32 = 2) {
            self.input = input
            self.output = output
            self.error = error
        }
        /// The host process's own standard streams.
        public static let inherit = StandardIO()
    }

    /// Creates a process for the program at the absolute guest `path`; it runs on ``exec(pid:)``.
    ///
    /// - Parameters:
    ///   - arguments: argv; argv[0] is the program name (the path when empty).
    ///   - environment: the caller's `NAME=value` entries, merged with the config's
    ///     `env.default`; only names listed in `env.untrusted` are kept.
    /// - Throws: `EACCES` (not an entry point), `ENOENT`, `ENOEXEC` (not a valid WASI program),
    ///   `EAGAIN` (too many processes), `EINVAL` (bad argument).
    public func createProcess(path: String, arguments: [String] = [], environment: [String] = [], stdio: StandardIO = .inherit) throws(Errno) -> Int32 {
        guard path.hasPrefix("/"), !path.contains("\0") else {
            throw Errno.inval.with(reason: "program path must be an absolute guest path, got \"\(path)\"")
        }
        if arguments.contains(where: { $0.contains("\0") }) || environment.contains(where: { $0.contains("\0") }) {
            throw Errno.inval.with(reason: "arguments and environment must not contain NUL")
        }
        guard config.allowsEntryPoint(path) else {
            throw Errno.acces.with(reason: "\(path) is not under an entry point (entry_points: \(config.entryPoints.joined(separator: ", ")))")
        }
        try lock.withLock { () throws(Errno) in
            if isShutDown { throw Errno.again.with(reason: "the instance is shutting down") }
            if processes.count >= config.resourceLimits.maxNumOfProcesses {
                throw Errno.again.with(reason: "max_num_of_processes (\(config.resourceLimits.maxNumOfProcesses)) reached")
            }
        }
        let inode: any Inode
        do {
            inode = try PathWalker(vfs: vfs).resolve(from: vfs.root, String(path.dropFirst()), followFinal: true)
        } catch {
            throw error.with(reason: "cannot find \(path): \(error.name)")
        }
        let program = try ProgramLoader(vfs: vfs, memoryCeiling: Int(clamping: config.process.defaultHeapSize)).load(path: path, inode: inode)
        let files = FileTable()
        files.install(.init(description: HostStreamDescription(fd: stdio.input), rightsBase: .stream, rightsInheriting: [], flags: [], ownsDescription: false), at: 0)
        files.install(.init(description: HostStreamDescription(fd: stdio.output), rightsBase: .stream, rightsInheriting: [], flags: [], ownsDescription: false), at: 1)
        files.install(.init(description: HostStreamDescription(fd: stdio.error), rightsBase: .stream, rightsInheriting: [], flags: [], ownsDescription: false), at: 2)
        for mount in vfs.mounts {
            _ = try files.insert(.init(
                description: DirectoryDescription(inode: mount.root), rightsBase: .directory,
                rightsInheriting: .inheritable, flags: [], preopenPath: mount.target, isReadable: false, isWritable: false))
        }
        return try lock.withLock { () throws(Errno) -> Int32 in
            if processes.count >= config.resourceLimits.maxNumOfProcesses {
                files.closeAll()
                throw Errno.again.with(reason: "max_num_of_processes (\(config.resourceLimits.maxNumOfProcesses)) reached")
            }
            let pid = nextPID
            nextPID += 1
            let process = Process(
                pid: pid, path: path, arguments: arguments.isEmpty ? [path] : arguments,
                environment: config.environment.merged(with: environment), program: program, files: files, kernel: self)
            processes[pid] = process
            log.log(.info, "created process \(pid) for \(path)", pid: pid, tid: pid)
            return pid
        }
    }

    /// Runs process `pid` on the calling thread until it ends, then reaps it.
    ///
    /// - Returns: its wait status (exit code or terminating signal, with the reason).
    /// - Throws: `ESRCH` (no such process), `EBUSY` (already running), `ENOMEM`/`ENOEXEC`
    ///   (the program could not be started; the process is reaped).
    public func exec(pid: Int32) throws(Errno) -> WaitStatus {
        let process = try lock.withLock { () throws(Errno) -> Process in
            guard let process = processes[pid] else { throw Errno.srch.with(reason: "no process \(pid)") }
            guard case .created = process.state else { throw Errno.busy.with(reason: "process \(pid) is already running") }
            process.state = .running
            return process
        }
        defer { reap(process) }
        if let signal = process.pendingTermination {
            return .signaled(signal, reason: "killed by \(signal) before it started")
        }
        log.log(.debug, "exec \(process.path) \(process.arguments.count) args", pid: pid, tid: pid)
        let status = try WasmKitRunner(kernel: self).run(process)
        if let reason = status.reason {
            log.log(.info, "process \(pid) \(status.description.isEmpty ? reason : status.description)", pid: pid, tid: pid)
        } else {
            log.log(.info, "process \(pid) \(status)", pid: pid, tid: pid)
        }
        return status
    }

    private func reap(_ process: Process) {
        process.files.closeAll()
        let reservation = process.memoryReservation.exchange(0, ordering: .relaxed)
        lock.withLock {
            reservedMemory -= UInt64(max(0, reservation))
            processes[process.pid] = nil
            lock.broadcast()
        }
    }

    /// Sends `signal` to process `pid`, or to every process when `pid` is -1.
    ///
    /// From outside the LibOS only SIGKILL and SIGTERM may be sent (`EPERM` otherwise); a
    /// number that is no signal is `EINVAL`; an unknown pid is `ESRCH`. A process that has not
    /// started ends as soon as it is executed; a running one ends at its next system call or
    /// when a blocking call (sleep, read) is woken.
    public func kill(pid: Int32, signal: Signal) throws(Errno) {
        guard signal.isValid else { throw Errno.inval.with(reason: "\(signal.rawValue) is not a signal") }
        guard signal == .kill || signal == .terminate else {
            throw Errno.perm.with(reason: "only SIGKILL and SIGTERM may be sent from outside the LibOS")
        }
        try deliver(signal, to: pid)
    }

    /// Delivers `signal` to `pid` (-1: every process) without the outside-sender restriction.
    func deliver(_ signal: Signal, to pid: Int32) throws(Errno) {
        let targets = try lock.withLock { () throws(Errno) -> [Process] in
            if pid == -1 { return Array(processes.values) }
            guard let process = processes[pid] else { throw Errno.srch.with(reason: "no process \(pid)") }
            return [process]
        }
        for process in targets {
            log.log(.info, "deliver \(signal) to \(process.pid)", pid: process.pid, tid: process.pid)
            process.deliver(signal)
        }
    }

    /// Kills every process and waits up to `timeoutSeconds` for running ones to stop.
    /// - Throws: `EBUSY` when some process is still running after the wait.
    public func shutdown(timeoutSeconds: Double = 5) throws(Errno) {
        let all = lock.withLock { () -> [Process] in
            isShutDown = true
            return Array(processes.values)
        }
        for process in all { process.deliver(.kill) }
        let deadline = monotonicNanoseconds() + UInt64(timeoutSeconds * 1e9)
        try lock.withLock { () throws(Errno) in
            while true {
                let running = processes.values.filter { if case .running = $0.state { return true } else { return false } }
                if running.isEmpty { break }
                if !lock.wait(untilMonotonic: deadline) && monotonicNanoseconds() >= deadline {
                    isShutDown = false
                    throw Errno.busy.with(reason: "\(running.count) process(es) still running")
                }
            }
            for process in processes.values { process.files.closeAll() }
            processes = [:]
        }
    }

    /// Whether process `pid` is running (executing guest code or blocked in the kernel).
    public func isRunning(pid: Int32) -> Bool {
        lock.withLock {
            guard let process = processes[pid], case .running = process.state else { return false }
            return true
        }
    }

    /// The pids in the process table.
    public var processIDs: [Int32] { lock.withLock { processes.keys.sorted() } }

    /// Reserves `delta` bytes of the instance's `user_space_size` (negative releases).
    func reserveMemory(_ delta: Int) -> Bool {
        lock.withLock {
            if delta <= 0 {
                reservedMemory -= UInt64(-delta)
                return true
            }
            if reservedMemory + UInt64(delta) > config.resourceLimits.userSpaceSize { return false }
            reservedMemory += UInt64(delta)
            return true
        }
    }
}
