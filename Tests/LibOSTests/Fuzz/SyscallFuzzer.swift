import CloisterTestSupport
import Foundation
@testable import LibOS
import Synchronization

/// A structured random-syscall fuzzer for the kernel's syscall layer.
///
/// Each *execution* is one process of a real kernel (ramfs, hostfs, sefs, devfs mounts, pipes,
/// children, threads) whose "guest code" is this fuzzer: it calls the handlers of
/// ``SyscallTable`` through a ``SyscallContext``, exactly as an engine's binding does, with
/// arguments from ``ArgumentGenerator`` and a ``GuardedMemory`` as the guest's memory. No engine
/// type is involved, so the same fuzzer covers the kernel whichever engine runs real guests.
///
/// What counts as a finding (each breaks a promise the kernel makes to the host):
/// - the host process dies (a trap on a guest value, a fault past a guard page, SIGPIPE): the
///   test process ends; `scripts/fuzz.sh` prints the last call the trace file recorded;
/// - a call that has not returned 10 s after its process was killed (a host thread held past
///   every time limit);
/// - an errno outside WASI's numbering;
/// - a process that outlives the end of its execution (killed, it must go).
///
/// The watchdog lets a call block for 50 ms, then makes the standard streams ready (input to
/// read, room to write); at 300 ms it kills the process, and the call must then return promptly.
final class SyscallFuzzer: @unchecked Sendable {
    struct Options {
        /// Calls the main thread makes per execution (spawned threads make a quarter of it).
        var callsPerExecution = 200
        /// Whether `wasi.thread-spawn` starts fuzz threads in the same process.
        var threads = true
        var unblockAfter: UInt64 = 50_000_000
        var killAfter: UInt64 = 300_000_000
        var hangAfter: UInt64 = 10_000_000_000
        /// A file the fuzzer appends a line to before every execution (its seed and streams), so
        /// the execution that crashed the host can be read after the crash (`CLOISTER_FUZZ_TRACE`).
        var tracePath: String?
        /// Also trace every call (`seed index name(args)`) before it is made: to replay one
        /// crashing seed (`CLOISTER_FUZZ_TRACE_CALLS`).
        var traceCalls = false
        /// Only the syscalls whose `module.name` contains one of these (`CLOISTER_FUZZ_SYSCALLS`,
        /// comma-separated); all when empty.
        var only: [String] = []
    }

    struct Finding: CustomStringConvertible {
        var seed: UInt64
        var what: String
        var description: String { "seed \(seed): \(what)" }
    }

    /// Counts over every execution run so far.
    struct Statistics {
        var executions = 0
        var calls = 0
        var threadsSpawned = 0
        var killedByWatchdog = 0
        var callsBySyscall: [String: Int] = [:]
        var errnos: [UInt16: Int] = [:]
        var streamStates: [String: Int] = [:]
    }

    let options: Options
    let folder: URL
    let kernel: Kernel
    /// Every syscall the kernel provides, as `module.name`, sorted.
    let syscallNames: [String]
    private let syscalls: [String: Syscall]
    private let lock = NSLock()
    private(set) var statistics = Statistics()
    private(set) var findings: [Finding] = []
    private let traceFD: Int32

    init(options: Options = Options()) throws {
        self.options = options
        // On tmpfs where there is one: it keeps file times past 2554, which ext4 clamps.
        let shm = URL(fileURLWithPath: "/dev/shm")
        let parent = access(shm.path, W_OK) == 0 ? shm : FileManager.default.temporaryDirectory
        folder = parent.appendingPathComponent("cloister-fuzz-\(UUID().uuidString)")
        try SyscallFuzzer.makeInstance(at: folder)
        kernel = try Kernel(instanceDirectory: folder.path, logLevel: .off, logSink: .memory())
        var syscalls: [String: Syscall] = [:]
        for (module, table) in SyscallTable.builtIn {
            for (name, syscall) in table { syscalls["\(module).\(name)"] = syscall }
        }
        self.syscalls = syscalls
        syscallNames = syscalls.keys.sorted().filter { name in options.only.isEmpty || options.only.contains { name.contains($0) } }
        traceFD = options.tracePath.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644) } ?? -1
    }

    deinit {
        try? kernel.shutdown()
        if traceFD >= 0 { close(traceFD) }
        try? FileManager.default.removeItem(at: folder)
    }

    /// The fuzz instance: a read-only `/bin` of the test guests, a scratch hostfs `/data` holding a
    /// FIFO, a file dated after 2554 and a link out of the mount, a `sefs` `/secure`, ramfs `/` and
    /// `/tmp`, devfs, and the function-file folders. `user_space_size` is small so ramfs fills up.
    static func makeInstance(at folder: URL) throws {
        let guests = try TestGuests.directory()
        let manager = FileManager.default
        for name in ["data", "secure", "inputs", "scratch"] {
            try manager.createDirectory(at: folder.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        let data = folder.appendingPathComponent("data")
        try Data("host file\n".utf8).write(to: data.appendingPathComponent("f"))
        try Data("input\n".utf8).write(to: folder.appendingPathComponent("inputs/in.txt"))
        mkfifo(data.appendingPathComponent("fifo").path, 0o644)
        try? manager.createSymbolicLink(atPath: data.appendingPathComponent("l").path, withDestinationPath: "../scratch")
        // A far-future time where the file system keeps one (tmpfs does; ext4 stops at 2446).
        let dated = data.appendingPathComponent("dated").path
        manager.createFile(atPath: dated, contents: Data("from the future".utf8))
        var times = [timespec(tv_sec: 1 << 35, tv_nsec: 0), timespec(tv_sec: 1 << 35, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, dated, &times, 0)
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try Data("key: \(key)\n".utf8).write(to: folder.appendingPathComponent("sefs.key"))
        let config = """
            {
              "resource_limits": { "user_space_size": "48MB", "max_num_of_processes": 6, "max_num_of_threads": 12 },
              "process": { "default_stack_size": "1MB", "default_heap_size": "8MB", "wall_time_limit": "20s" },
              "entry_points": ["/bin"],
              "env": { "default": ["HOME=/root", "PATH=/bin"], "untrusted": [] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": "\(guests.path)", "options": { "read_only": "true" } },
                { "target": "/data", "type": "hostfs", "source": "./data" },
                { "target": "/tmp", "type": "ramfs" },
                { "target": "/dev", "type": "devfs" },
                { "target": "/secure", "type": "sefs", "source": "./secure", "options": { "key_file": "./sefs.key" } },
                { "target": "/inputs", "type": "hostfs", "source": "./inputs", "options": { "read_only": "true" } },
                { "target": "/outputs", "type": "ramfs" }
              ],
              "metadata": { "debuggable": false }
            }
            """
        try Data(config.utf8).write(to: folder.appendingPathComponent("Cloister.json"))
    }

    // MARK: Running

    /// Runs executions for `seeds` in turn, or until `deadline` (monotonic nanoseconds) passes.
    func run(seeds: some Sequence<UInt64>, until deadline: UInt64? = nil) {
        for seed in seeds {
            if let deadline, monotonicNanoseconds() >= deadline { break }
            execute(seed: seed)
            // A stuck thread stays stuck, holding its process: stop after a few.
            if hangs >= SyscallFuzzer.maximumHangs { break }
        }
    }

    /// One execution: a process of the fuzz instance whose guest code is `callsPerExecution`
    /// random calls from `seed`.
    func execute(seed: UInt64) {
        var random = FuzzRandom(seed: seed)
        let streams = FuzzStreams(random: &random, scratch: folder.appendingPathComponent("scratch"))
        defer { streams.close() }
        let pid: Int32
        do {
            pid = try kernel.createProcess(path: "/bin/hello.wasm", stdio: streams.stdio)
        } catch {
            record(Finding(seed: seed, what: "cannot create the fuzz process: \(error)"))
            return
        }
        guard let process = kernel.table.lock.withLock({ () -> KernelProcess? in
            let process = kernel.table[pid]
            process?.state = .running
            return process
        }) else { return }
        let memory = GuardedMemory(byteCount: random.pick([65_536, 65_536, 65_536, 131_072, 4096, 1, 0, 1 << 20]))
        if random.chance(0.5) { memory.scramble(&random) }
        let execution = Execution(fuzzer: self, seed: seed, process: process, memory: memory, streams: streams)
        traceLine("execution \(seed) memory=\(memory.byteCount) \(streams.summary)")
        lock.withLock {
            statistics.executions += 1
            statistics.streamStates[streams.summary, default: 0] += 1
        }

        let main = GuestThread(tid: process.pid, process: process, affinity: nil)
        let done = DispatchSemaphore(value: 0)
        let focus = (0..<(6 + random.below(8))).map { _ in random.pick(syscallNames) }
        let mainRandom = FuzzRandom(seed: random.next())
        do {
            try HostThread.start {
                execution.runThread(main, random: mainRandom, calls: self.options.callsPerExecution, focus: focus)
                done.signal()
            }
        } catch {
            record(Finding(seed: seed, what: "cannot start a host thread: \(error)"))
            return
        }
        let watchdog = Watchdog(execution: execution)
        watchdog.start()
        let limit = DispatchTime.now() + .nanoseconds(Int(options.killAfter + options.hangAfter + 5_000_000_000))
        if done.wait(timeout: limit) == .timedOut {
            watchdog.stop()
            record(Finding(seed: seed, what: "hang: the main fuzz thread is stuck in \(execution.monitor.stuckCall() ?? "?") [\(streams.summary)]"))
            return
        }
        // Other fuzz threads end once the process ends (they check before every call).
        if !process.isEnding { process.end(with: .exited(0)) }
        let othersEnded = eventually(within: Double(options.hangAfter) / 1e9) { process.threadCount == 0 }
        watchdog.stop()
        if !othersEnded {
            record(Finding(seed: seed, what: "hang: a fuzz thread is stuck in \(execution.monitor.stuckCall() ?? "?") [\(streams.summary)]"))
            return
        }
        kernel.finish(process, status: process.endStatus ?? .exited(0))
        // Children the fuzzer spawned: kill them, and every one must go.
        try? kernel.deliver(.kill, to: -1)
        if !eventually(within: 30, { kernel.processIDs.isEmpty }) {
            record(Finding(seed: seed, what: "processes \(kernel.processIDs) outlived their kill [\(streams.summary)]"))
        }
    }

    func record(_ finding: Finding) { lock.withLock { findings.append(finding) } }

    /// Hangs found so far; each leaves a host thread stuck.
    var hangs: Int { lock.withLock { findings.filter { $0.what.hasPrefix("hang") }.count } }
    static let maximumHangs = 3

    fileprivate func count(_ name: String, _ error: Errno) {
        lock.withLock {
            statistics.calls += 1
            statistics.callsBySyscall[name, default: 0] += 1
            statistics.errnos[error.rawValue, default: 0] += 1
        }
    }

    fileprivate func countThread() { lock.withLock { statistics.threadsSpawned += 1 } }
    fileprivate func countWatchdogKill() { lock.withLock { statistics.killedByWatchdog += 1 } }

    fileprivate func trace(_ seed: UInt64, _ index: Int, _ name: String, _ arguments: SyscallArguments) {
        guard options.traceCalls else { return }
        traceLine("\(seed) \(index) \(SyscallFuzzer.describe(name, arguments))")
    }

    private func traceLine(_ line: String) {
        guard traceFD >= 0 else { return }
        _ = (line + "\n").withCString { write(traceFD, $0, strlen($0)) }
    }

    static func describe(_ name: String, _ arguments: SyscallArguments) -> String {
        "\(name)(\((0..<arguments.count).map { "\(arguments[$0])" }.joined(separator: ", ")))"
    }

    fileprivate func syscall(_ name: String) -> Syscall { syscalls[name]! }
}

/// One execution's shared state: its process, memory, streams and the calls in progress.
private final class Execution: @unchecked Sendable {
    unowned let fuzzer: SyscallFuzzer
    let seed: UInt64
    let process: KernelProcess
    let memory: GuardedMemory
    let streams: FuzzStreams
    let monitor = CallMonitor()

    init(fuzzer: SyscallFuzzer, seed: UInt64, process: KernelProcess, memory: GuardedMemory, streams: FuzzStreams) {
        self.fuzzer = fuzzer
        self.seed = seed
        self.process = process
        self.memory = memory
        self.streams = streams
    }

    /// Runs `calls` random calls as guest thread `thread` on the calling host thread, as the
    /// engine's binding would: stop when the process is ending, answer errnos, end on `proc_exit`.
    func runThread(_ thread: GuestThread, random: FuzzRandom, calls: Int, focus: [String]) {
        let kernel = fuzzer.kernel
        if process.thread(thread.tid) == nil { process.add(thread) }
        thread.attach()
        if thread.tid == process.pid { process.markStarted() }
        let context = SyscallContext(kernel: kernel, thread: thread, memory: memory)
        var generator = ArgumentGenerator(memory: memory, random: random, pid: process.pid)
        if fuzzer.options.threads {
            let seedBase = generator.random.next()
            context.spawnThread = { [self] (argument) throws(Errno) -> Int32 in
                try spawnThread(from: thread, seed: seedBase ^ UInt64(UInt32(bitPattern: argument)), calls: max(1, calls / 4), focus: focus)
            }
        }
        defer {
            context.spawnThread = nil
            let cpu = thread.detach()
            process.remove(thread, cpuNanoseconds: cpu)
        }
        for index in 0..<calls {
            if process.isEnding { return }
            let name = generator.random.chance(0.8) ? generator.random.pick(focus) : generator.random.pick(fuzzer.syscallNames)
            if name == "wasi.thread-spawn", !fuzzer.options.threads { continue }
            // Ending calls are rarer, so executions live long enough to build up state.
            if name == "wasi_snapshot_preview1.proc_exit", !generator.random.chance(0.1) { continue }
            let syscall = fuzzer.syscall(name)
            var arguments = generator.arguments(SyscallRecipes.all[name]!)
            if name == "cloister.spawn", generator.random.chance(0.7) {
                let path = generator.programPath()
                var respelled = SyscallArguments()
                respelled.append(UInt64(generator.place(path)))
                respelled.append(UInt64(path.count))
                for position in 2..<arguments.count { respelled.append(arguments[position]) }
                arguments = respelled
            }
            fuzzer.trace(seed, index, name, arguments)
            monitor.begin(thread.tid, name: name, arguments: arguments)
            let result = call(syscall, context, arguments)
            monitor.end(thread.tid)
            guard let error = result else { return }  // proc_exit
            if error.rawValue > 76 {
                fuzzer.record(SyscallFuzzer.Finding(seed: seed, what: "\(SyscallFuzzer.describe(name, arguments)) answered errno \(error.rawValue), not a WASI errno"))
            }
            fuzzer.count(name, error)
            if error == .success { learn(name, arguments, &generator) }
        }
    }

    /// Runs one call; its errno, or nil when it ended the process (`proc_exit`).
    private func call(_ syscall: Syscall, _ context: SyscallContext, _ arguments: SyscallArguments) -> Errno? {
        do {
            switch syscall.behavior {
            case .errno(let handler): try handler(context, arguments)
            case .value(let handler): _ = try handler(context, arguments)
            case .minusOneOnError(let handler): _ = try handler(context, arguments)
            case .exit:
                process.end(with: .exited(Int32(bitPattern: arguments.u32(0))))
                return nil
            }
            return .success
        } catch {
            return error
        }
    }

    /// Remembers the descriptors a successful call returned, so later calls use them.
    private func learn(_ name: String, _ arguments: SyscallArguments, _ generator: inout ArgumentGenerator) {
        let pointers: [UInt32]
        switch name {
        case "wasi_snapshot_preview1.path_open": pointers = [arguments.u32(8)]
        case "cloister.pipe": pointers = [arguments.u32(0), arguments.u32(0) &+ 4]
        default: return
        }
        for pointer in pointers {
            guard let fd = try? memory.loadU32(pointer) else { continue }
            generator.recentFDs.append(fd)
        }
        if generator.recentFDs.count > 16 { generator.recentFDs.removeFirst(generator.recentFDs.count - 16) }
    }

    /// `wasi.thread-spawn` for the fuzzer: a new guest thread of the same process on a new host
    /// thread, running random calls too.
    private func spawnThread(from caller: GuestThread, seed: UInt64, calls: Int, focus: [String]) throws(Errno) -> Int32 {
        let table = fuzzer.kernel.table
        try table.reserveThread()
        let thread = GuestThread(tid: table.threadID(), process: process, affinity: caller.sched.affinity)
        process.add(thread)
        do throws(Errno) {
            try HostThread.start { [self] in
                runThread(thread, random: FuzzRandom(seed: seed), calls: calls, focus: focus)
                table.releaseThread()
            }
        } catch {
            process.remove(thread, cpuNanoseconds: 0)
            table.releaseThread()
            throw error
        }
        fuzzer.countThread()
        return thread.tid
    }
}

/// The calls in progress, by thread, for the watchdog.
private final class CallMonitor: @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [Int32: (started: UInt64, name: String, arguments: SyscallArguments)] = [:]

    func begin(_ tid: Int32, name: String, arguments: SyscallArguments) {
        lock.withLock { calls[tid] = (monotonicNanoseconds(), name, arguments) }
    }

    func end(_ tid: Int32) { _ = lock.withLock { calls.removeValue(forKey: tid) } }

    /// The longest-running call in progress and since when.
    func oldest() -> (started: UInt64, description: String)? {
        lock.withLock {
            calls.values.min { $0.started < $1.started }.map { ($0.started, SyscallFuzzer.describe($0.name, $0.arguments)) }
        }
    }

    func stuckCall() -> String? { oldest()?.description }
}

/// Unblocks, then kills, an execution whose call blocks (see ``SyscallFuzzer``).
private final class Watchdog: @unchecked Sendable {
    let execution: Execution
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(execution: Execution) { self.execution = execution }

    func start() {
        Thread { [self] in
            var unblocked: UInt64 = 0
            while !stopped.load(ordering: .acquiring) {
                usleep(5_000)
                guard let (started, _) = execution.monitor.oldest() else { continue }
                let elapsed = monotonicNanoseconds() &- started
                let options = execution.fuzzer.options
                if elapsed > options.unblockAfter, unblocked != started {
                    unblocked = started
                    execution.streams.makeReady()
                }
                if elapsed > options.killAfter, !execution.process.isEnding {
                    execution.fuzzer.countWatchdogKill()
                    execution.process.deliver(.kill, reason: "fuzz watchdog")
                }
            }
            finished.signal()
        }.start()
    }

    func stop() {
        stopped.store(true, ordering: .releasing)
        finished.wait()
    }
}
