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
    /// The instruction engine every process of this instance runs on.
    let engine: any GuestEngine
    /// Which engine that is.
    public var engineKind: EngineKind { engine.kind }
    /// Where compiled programs are kept between runs (wasmtime), if anywhere.
    let artifactCache: ArtifactCache?
    /// The host memory the instance's guests hold, against `user_space_size`: linear memory and
    /// tables, ramfs contents, open sefs files.
    public let memoryBudget: MemoryBudget
    /// The `network` rules every host socket call is checked against.
    let network: NetworkPolicy
    /// What the `network` rules refused so far (the first 16 refusals).
    public var networkRefusals: [NetworkRefusal] { network.refusals }
    /// The instance's AF_UNIX names.
    let unixNames: UnixNamespace

    /// The process table; its lock guards the fields below too.
    let table: ProcessTable
    /// Forces threads into the kernel for signals and limits.
    let interruptAgent: InterruptAgent
    private var isShutDown = false
    /// Whether programs are instrumented with interrupt checks (tests turn it off to show the
    /// fuel backstop).
    let instrumentsPrograms: Bool

    /// Starts an instance from `instanceDirectory/Cloister.json` (or from `config` when given).
    ///
    /// The log level is `logLevel`, else `CLOISTER_LOG_LEVEL`, else `off`; a release instance
    /// (`debuggable: false`) never logs. The engine is `engine`, else `CLOISTER_ENGINE`, else the
    /// config's `engine`, else wasmtime; wasmtime falls back to WasmKit, with a one-line notice,
    /// when its library cannot be loaded (``EngineSelection``).
    public convenience init(
        instanceDirectory: String, config: InstanceConfig? = nil, logLevel: LogLevel? = nil, logSink: LogSink = .standardError,
        engine: EngineKind? = nil, cacheDirectory: String? = nil
    ) throws(Errno) {
        try self.init(
            instanceDirectory: instanceDirectory, config: config, logLevel: logLevel, logSink: logSink, engine: engine,
            cacheDirectory: cacheDirectory, instrumentsPrograms: true)
    }

    init(
        instanceDirectory: String, config: InstanceConfig?, logLevel: LogLevel?, logSink: LogSink, engine requested: EngineKind? = nil,
        cacheDirectory: String? = nil, instrumentsPrograms: Bool
    ) throws(Errno) {
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
        self.network = NetworkPolicy(loaded.network, log: log)
        let memoryBudget = MemoryBudget(capacity: loaded.resourceLimits.userSpaceSize)
        self.memoryBudget = memoryBudget
        self.unixNames = UnixNamespace(budget: memoryBudget)
        self.vfs = try VirtualFileSystem(
            mounts: loaded.mounts, instanceDirectory: directory, budget: memoryBudget,
            reportTamper: { [log] message in log.log(.error, message) })
        self.instrumentsPrograms = instrumentsPrograms
        let engine = EngineSelection.engine(try EngineSelection.wanted(requested: requested, configured: loaded.engine))
        self.engine = engine
        if engine.kind == .wasmtime {
            switch ArtifactCache.open(cacheDirectory ?? ArtifactCache.defaultDirectory) {
            case .success(let cache): artifactCache = cache
            case .failure(let reason):
                log.log(.warn, "\(reason); programs are compiled on every load")
                artifactCache = nil
            }
        } else {
            artifactCache = nil
        }
        let table = ProcessTable(maxProcesses: loaded.resourceLimits.maxNumOfProcesses, maxThreads: loaded.resourceLimits.maxNumOfThreads)
        self.table = table
        self.interruptAgent = InterruptAgent(period: loaded.process.interruptPeriod) { table.lock.withLock { table.all } }
        log.log(.info, "instance \(directory) started with \(loaded.mounts.count) mounts on \(engine.kind)")
    }

    deinit { interruptAgent.stop() }

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
    ///   - limits: lower memory, CPU-time or wall-clock limits for this run.
    ///   - entry: where the program starts: `_start` (a WASI command), or an exported function
    ///     of the entry-point convention, whose value ``exec(pid:)`` reports as `returnValue`.
    /// - Throws: `EACCES` (not an entry point), `ENOENT`, `ENOEXEC` (not a valid WASI program, or
    ///   no such entry),
    ///   `EAGAIN` (too many processes or threads), `EINVAL` (bad argument, or a limit above the
    ///   instance's).
    public func createProcess(
        path: String, arguments: [String] = [], environment: [String] = [], stdio: StandardIO = .inherit,
        limits: ProcessLimits.Overrides = .none, entry: ProgramEntry = .command
    ) throws(Errno) -> Int32 {
        let processLimits = try ProcessLimits(defaults: config.process).lowered(by: limits)
        let program = try loadProgram(path: path, arguments: arguments, environment: environment, memoryLimit: processLimits.memory, entry: entry)
        let files = FileTable()
        // Standard input is read, output and error written (EBADF the other way, as wasmtime).
        for (fd, host) in [stdio.input, stdio.output, stdio.error].enumerated() {
            files.install(.init(
                description: HostStreamDescription(fd: host), rightsBase: .stream, rightsInheriting: [], flags: [],
                ownsDescription: false, isReadable: fd == 0, isWritable: fd != 0), at: UInt32(fd))
        }
        for mount in vfs.mounts {
            _ = try files.insert(.init(
                description: DirectoryDescription(inode: mount.root), rightsBase: .directory,
                rightsInheriting: .inheritable, flags: [], preopenPath: mount.target, isReadable: false, isWritable: false))
        }
        let process = try addProcess(
            program: program, arguments: arguments, environment: config.environment.merged(with: environment), entry: entry,
            files: files, parentPID: ProcessTable.initPID, limits: processLimits, affinity: nil, collectedByEntry: true)
        return process.pid
    }

    /// Resolves and loads the program at the absolute guest `path` (through the module cache).
    private func loadProgram(path: String, arguments: [String], environment: [String], memoryLimit: UInt64, entry: ProgramEntry) throws(Errno) -> LoadedProgram {
        guard path.hasPrefix("/"), !path.contains("\0") else {
            throw Errno.inval.with(reason: "program path must be an absolute guest path, got \"\(path)\"")
        }
        if arguments.contains(where: { $0.contains("\0") }) || environment.contains(where: { $0.contains("\0") }) {
            throw Errno.inval.with(reason: "arguments and environment must not contain NUL")
        }
        guard config.allowsEntryPoint(path) else {
            throw Errno.acces.with(reason: "\(path) is not under an entry point (entry_points: \(config.entryPoints.joined(separator: ", ")))")
        }
        try table.lock.withLock { () throws(Errno) in
            if isShutDown { throw Errno.again.with(reason: "the instance is shutting down") }
            try table.checkRoomForProcess()
        }
        let inode: any Inode
        do {
            inode = try PathWalker(vfs: vfs).resolve(from: vfs.root, String(path.dropFirst()), followFinal: true)
        } catch {
            throw error.with(reason: "cannot find \(path): \(error.name)")
        }
        return try ProgramLoader(vfs: vfs, engine: engine, memoryCeiling: memoryLimit, cache: artifactCache, instruments: instrumentsPrograms)
            .load(path: path, inode: inode, entry: entry)
    }

    /// Enters a new process in the table (`EAGAIN` at the process or thread limit; `files` is
    /// closed then).
    private func addProcess(
        program: LoadedProgram, arguments: [String], environment: [String], entry: ProgramEntry = .command, files: FileTable, parentPID: Int32,
        limits: ProcessLimits, affinity: CpuSet?, collectedByEntry: Bool
    ) throws(Errno) -> Process {
        let path = program.path
        return try table.lock.withLock { () throws(Errno) -> Process in
            do throws(Errno) {
                if isShutDown { throw Errno.again.with(reason: "the instance is shutting down") }
                try table.checkRoomForProcess()
            } catch {
                files.closeAll()
                throw error
            }
            let process = Process(
                pid: table.allocateID(), parentPID: parentPID, path: path,
                arguments: arguments.isEmpty && entry.passesArgumentsAsArgv ? [path] : arguments,
                environment: environment, entry: entry, program: program, files: files, limits: limits, affinity: affinity,
                isCollectedByEntry: collectedByEntry, kernel: self)
            table.insert(process)
            log.log(.info, "created process \(process.pid) for \(path) (parent \(parentPID))", pid: process.pid, tid: process.pid)
            return process
        }
    }

    /// Runs process `pid` on the calling thread until it ends, then reaps it.
    ///
    /// - Returns: its wait status (exit code or terminating signal, with the reason).
    /// - Throws: `ESRCH` (no such process), `EBUSY` (already running), `ENOMEM`/`ENOEXEC`
    ///   (the program could not be started; the process is reaped).
    public func exec(pid: Int32) throws(Errno) -> WaitStatus {
        let process = try table.lock.withLock { () throws(Errno) -> Process in
            guard let process = table[pid], process.isCollectedByEntry else { throw Errno.srch.with(reason: "no process \(pid)") }
            guard case .created = process.state else { throw Errno.busy.with(reason: "process \(pid) is already running") }
            process.state = .running
            return process
        }
        if let status = process.endStatus {
            finish(process, status: status)
            return WaitStatus(rawValue: status.rawValue, reason: "\(status.reason ?? "killed") before it started")
        }
        let main = GuestThread(tid: process.pid, process: process, affinity: nil)
        let ended = ExitLatch()
        try GuestRunner(kernel: self).startMainThread(main) { status in ended.set(status) }
        return ended.wait()
    }

    /// Spawns a child of `parent` running the program at `path` with `parent`'s descriptors
    /// (then `fileActions`, in order) on a new host thread; returns its pid once it has started.
    ///
    /// - Throws: as ``createProcess(path:arguments:environment:stdio:limits:)``, and the
    ///   errors of a file action (`EBADF`, `ENOENT`…).
    func spawn(
        from thread: GuestThread, path: String, arguments: [String], environment: [String], fileActions: [SpawnFileAction]
    ) throws(Errno) -> Int32 {
        let parent = thread.process
        let program = try loadProgram(path: path, arguments: arguments, environment: environment, memoryLimit: parent.limits.memory, entry: .command)
        let files = parent.files.inherited()
        do {
            for action in fileActions { try action.apply(to: files, vfs: vfs) }
        } catch {
            files.closeAll()
            throw error
        }
        let process = try addProcess(
            program: program, arguments: arguments, environment: environment, files: files, parentPID: parent.pid,
            limits: parent.limits, affinity: thread.sched.affinity, collectedByEntry: false)
        table.lock.withLock { process.state = .running }
        let main = GuestThread(tid: process.pid, process: process, affinity: process.initialAffinity)
        try GuestRunner(kernel: self).startMainThread(main) { _ in }
        return process.pid
    }

    /// Closes a process's files, releases its memory and makes it a zombie or reaps it.
    func finish(_ process: Process, status: WaitStatus, started: Bool = true) {
        process.end(with: status)
        process.files.closeAll()
        process.engineState = nil
        process.closeMemoryAccounting()
        guard started else {
            // Its start failed: the caller of exec or spawn gets the error, nobody waits for it.
            table.discard(process)
            return
        }
        let parent = table.processEnded(process, status: status)
        parent?.deliver(.child)
        if let reason = status.reason {
            log.log(.info, "process \(process.pid) \(status.description.isEmpty ? reason : status.description)", pid: process.pid, tid: process.pid)
        } else {
            log.log(.info, "process \(process.pid) \(status)", pid: process.pid, tid: process.pid)
        }
    }

    /// Sends `signal` to process `pid`, or to every process when `pid` is -1.
    ///
    /// From outside the LibOS only SIGKILL and SIGTERM may be sent (`EPERM` otherwise); a
    /// number that is no signal is `EINVAL`; an unknown pid is `ESRCH`. A process that has not
    /// started ends as soon as it is executed; a running one is forced into the kernel at once,
    /// whether it runs guest code, sleeps, or waits on a pipe, a child or a futex.
    public func kill(pid: Int32, signal: Signal) throws(Errno) {
        guard signal.isValid else { throw Errno.inval.with(reason: "\(signal.rawValue) is not a signal") }
        guard signal == .kill || signal == .terminate else {
            throw Errno.perm.with(reason: "only SIGKILL and SIGTERM may be sent from outside the LibOS")
        }
        try deliver(signal, to: pid)
    }

    /// Delivers `signal` to `pid` (-1: every process but `sender`) without the outside-sender
    /// restriction. Signal 0 only checks that the process exists.
    func deliver(_ signal: Signal, to pid: Int32, sender: Int32? = nil) throws(Errno) {
        let targets = try table.lock.withLock { () throws(Errno) -> [Process] in
            if pid == -1 { return table.all.filter { $0.pid != sender && !$0.isZombie } }
            guard let process = table[pid], !process.isZombie else { throw Errno.srch.with(reason: "no process \(pid)") }
            return [process]
        }
        guard signal.rawValue != 0 else { return }
        for process in targets {
            log.log(.info, "deliver \(signal) to \(process.pid)", pid: process.pid, tid: process.pid)
            process.deliver(signal)
        }
    }

    /// Kills every process and waits up to `timeoutSeconds` for running ones to stop.
    /// - Throws: `EBUSY` when some process is still running after the wait.
    public func shutdown(timeoutSeconds: Double = 5) throws(Errno) {
        let all = table.lock.withLock { () -> [Process] in
            isShutDown = true
            return table.all
        }
        for process in all { process.deliver(.kill) }
        let deadline = monotonicNanoseconds().saturatingAdd(UInt64(clamping: Int64(max(0, min(timeoutSeconds, 1e9)) * 1e9)))
        try table.lock.withLock { () throws(Errno) in
            while true {
                let running = table.all.filter { if case .running = $0.state { return true } else { return false } }
                if running.isEmpty { break }
                if !table.lock.wait(untilMonotonic: deadline) && monotonicNanoseconds() >= deadline {
                    isShutDown = false
                    throw Errno.busy.with(reason: "\(running.count) process(es) still running")
                }
            }
        }
        interruptAgent.stop()
        let remaining = table.lock.withLock { table.all }
        for process in remaining {
            process.files.closeAll()
            table.discard(process)
        }
    }

    /// Whether process `pid` is running (executing guest code or blocked in the kernel).
    public func isRunning(pid: Int32) -> Bool {
        table.lock.withLock {
            guard let process = table[pid], case .running = process.state else { return false }
            return true
        }
    }

    /// What the process table says of one process, for tools and tests.
    public struct ProcessSnapshot: Sendable, Equatable {
        public var pid: Int32
        /// 0 (init) for processes started through the entry API and for orphans.
        public var parentPID: Int32
        /// Ended, waiting for its parent to reap it.
        public var isZombie: Bool
        /// Threads that have not finished.
        public var threadCount: Int
    }

    /// The state of process `pid`, or nil when it is not in the table.
    public func snapshot(of pid: Int32) -> ProcessSnapshot? {
        guard let (process, parent, zombie) = table.lock.withLock({ () -> (Process, Int32, Bool)? in
            guard let process = table[pid] else { return nil }
            return (process, process.parentPID, process.isZombie)
        }) else { return nil }
        return ProcessSnapshot(pid: pid, parentPID: parent, isZombie: zombie, threadCount: process.threadCount)
    }

    /// The pids in the process table (zombies included).
    public var processIDs: [Int32] { table.lock.withLock { table.pids } }

    /// The CPU affinity of thread `tid` as its host thread has it; nil when no such thread.
    public func affinity(ofThread tid: Int32) -> CpuSet? {
        table.thread(tid)?.sched.affinity
    }

    /// Reserves `delta` bytes of the instance's `user_space_size` (negative releases), shared
    /// with what its file systems hold (``memoryBudget``).
    func reserveMemory(_ delta: Int) -> Bool {
        if delta <= 0 {
            memoryBudget.release(UInt64(delta.magnitude))
            return true
        }
        return memoryBudget.reserve(UInt64(delta))
    }
}

extension Process {
    /// Whether the process has ended and waits for its parent. With the table's lock held.
    var isZombie: Bool {
        if case .zombie = state { return true }
        return false
    }
}
