import Synchronization

/// A LibOS process: one guest program with its own threads, file table and limits, a parent
/// and children.
///
/// A process ends as a whole (exit_group): the first of `proc_exit` from any thread, the main
/// thread returning, a fatal signal, a trap or a limit decides its status, and every other
/// thread is forced out of guest code or out of its kernel wait (``GuestThread/interrupt()``).
public final class Process: @unchecked Sendable {
    /// Where a process is in its life. Guarded by `kernel.lock`.
    enum State {
        case created
        case running
        /// Ended and not yet waited for by its parent.
        case zombie(WaitStatus)
    }

    public let pid: Int32
    /// The guest path the program was started from.
    public let path: String
    public let arguments: [String]
    public let environment: [String]
    /// Where the program starts.
    public let entry: ProgramEntry
    let program: LoadedProgram
    let files: FileTable
    let limits: ProcessLimits
    unowned let kernel: Kernel

    /// Guarded by `kernel.lock`.
    var state: State = .created
    /// The parent's pid; ``ProcessTable/initPID`` for processes started through the entry API
    /// and for orphans. Guarded by `kernel.lock`.
    var parentPID: Int32
    /// Whether the entry API's `exec` collects this process's status (it is never a zombie).
    let isCollectedByEntry: Bool

    /// The affinity of the main thread at start (the spawning thread's).
    let initialAffinity: CpuSet?

    /// The status the process ends with, once decided; 0 while it runs, else the wait status
    /// with bit 32 set (an exit with code 0 has wait status 0).
    private let ending = Atomic<Int64>(0)
    /// Why the process ends, when it did not exit by itself; written before `ending`.
    private var endReason: String?
    /// What a function entry returned; written with `endReason`.
    private var endReturnValue: Int32?
    /// The last growth of linear memory the limits refused, if any: it explains a failure.
    private var lastMemoryRefusal: String?

    /// Guards `threads`, and wakes whoever waits for them to finish.
    let threadLock = KernelLock()
    private var threads: [Int32: GuestThread] = [:]
    /// CPU time of threads that already finished, in nanoseconds.
    private let finishedThreadsCPU = Atomic<UInt64>(0)
    /// The monotonic time `exec` started the process.
    private(set) var startTime: UInt64 = 0

    /// Guards the memory accounting below (``chargeMemory(_:total:what:)``).
    let memoryLock = KernelLock()
    /// Bytes of linear memory and tables the process holds against its limit and the instance's
    /// `user_space_size`.
    var memoryReservation = 0
    /// Set once the process has ended and returned what it held.
    var memoryAccountingClosed = false
    /// What the process's threads share in the engine (a threaded program's shared memory).
    var engineState: (any EngineProcess)?

    init(
        pid: Int32, parentPID: Int32, path: String, arguments: [String], environment: [String], entry: ProgramEntry, program: LoadedProgram,
        files: FileTable, limits: ProcessLimits, affinity: CpuSet?, isCollectedByEntry: Bool, kernel: Kernel
    ) {
        self.pid = pid
        self.parentPID = parentPID
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.entry = entry
        self.program = program
        self.files = files
        self.limits = limits
        self.initialAffinity = affinity
        self.isCollectedByEntry = isCollectedByEntry
        self.kernel = kernel
    }

    // MARK: Ending

    /// Whether the process's end is decided (its threads are being stopped).
    @inline(__always)
    var isEnding: Bool { ending.load(ordering: .acquiring) != 0 }

    /// The status the process ends with, once decided, with its reason.
    var endStatus: WaitStatus? {
        let value = ending.load(ordering: .acquiring)
        guard value != 0 else { return nil }
        let rawValue = Int32(truncatingIfNeeded: value)
        let (reason, returnValue, refusal) = threadLock.withLock { (endReason, endReturnValue, lastMemoryRefusal) }
        guard let refusal, rawValue != 0 else { return WaitStatus(rawValue: rawValue, reason: reason, returnValue: returnValue) }
        // A failure after a refused growth: out of memory is the likely cause, and is said first.
        return WaitStatus(rawValue: rawValue, reason: "out of memory: \(refusal)" + (reason.map { "; then \($0)" } ?? ""), returnValue: returnValue)
    }

    /// Records that the memory limits refused a growth (``MemoryCharge``).
    func noteMemoryRefusal(_ refusal: String) {
        threadLock.withLock { lastMemoryRefusal = refusal }
    }

    /// The last growth the memory limits refused, if any.
    var memoryRefusal: String? { threadLock.withLock { lastMemoryRefusal } }

    /// Decides how the process ends, unless that is already decided, and forces every thread
    /// into the kernel. Returns whether this call decided it.
    @discardableResult
    func end(with status: WaitStatus) -> Bool {
        let decided = threadLock.withLock { () -> Bool in
            guard ending.load(ordering: .acquiring) == 0 else { return false }
            endReason = status.reason
            endReturnValue = status.returnValue
            ending.store(Int64(UInt32(bitPattern: status.rawValue)) | (1 << 32), ordering: .releasing)
            return true
        }
        if decided {
            kernel.log.log(.info, "process \(pid) ends: \(status)", pid: pid, tid: pid)
            interruptAllThreads()
        }
        return decided
    }

    /// Applies `signal`'s default action: a signal that terminates ends the process; one that
    /// is ignored by default (SIGCHLD, SIGURG, SIGWINCH, SIGCONT) does nothing.
    func deliver(_ signal: Signal, reason: String? = nil) {
        guard signal.terminatesByDefault else { return }
        end(with: .signaled(signal, reason: reason ?? "killed by \(signal)"))
    }

    /// Raises every thread's interrupt and wakes every thread blocked in the kernel.
    func interruptAllThreads() {
        for thread in threadLock.withLock({ Array(threads.values) }) { thread.interrupt() }
    }

    // MARK: Threads

    /// The threads that have not finished.
    var liveThreads: [GuestThread] { threadLock.withLock { Array(threads.values) } }

    var threadCount: Int { threadLock.withLock { threads.count } }

    func add(_ thread: GuestThread) {
        threadLock.withLock { threads[thread.tid] = thread }
    }

    func thread(_ tid: Int32) -> GuestThread? {
        threadLock.withLock { threads[tid] }
    }

    /// Removes a finished thread, counting the CPU time it used.
    func remove(_ thread: GuestThread, cpuNanoseconds: UInt64) {
        finishedThreadsCPU.add(cpuNanoseconds, ordering: .relaxed)
        threadLock.withLock {
            threads[thread.tid] = nil
            threadLock.broadcast()
        }
    }

    /// Waits until every thread but `survivor` has finished.
    func waitForOtherThreads(than survivor: GuestThread) {
        threadLock.withLock {
            while threads.keys.contains(where: { $0 != survivor.tid }) {
                _ = threadLock.wait(untilMonotonic: monotonicNanoseconds() + 50_000_000)
            }
        }
    }

    /// Records the start of `exec`.
    func markStarted() { startTime = monotonicNanoseconds() }

    /// CPU time used by all threads, finished or running, in nanoseconds.
    var cpuNanoseconds: UInt64 {
        finishedThreadsCPU.load(ordering: .relaxed) + liveThreads.reduce(0) { $0 + $1.cpuNanoseconds() }
    }

    /// Ends the process if it ran past one of its time limits (called by the interrupt agent).
    func enforceTimeLimits(now: UInt64) {
        guard !isEnding, startTime != 0 else { return }
        if let wall = limits.wallTime, now &- startTime > wall {
            end(with: .signaled(.kill, reason: "wall-clock limit of \(DurationText.format(wall)) exceeded"))
        } else if let cpu = limits.cpuTime, cpuNanoseconds > cpu {
            end(with: .signaled(.cpuLimit, reason: "CPU-time limit of \(DurationText.format(cpu)) exceeded"))
        }
    }
}

/// The error that unwinds a guest thread out of the engine when its process ends.
struct ProcessEnding: Error {}
