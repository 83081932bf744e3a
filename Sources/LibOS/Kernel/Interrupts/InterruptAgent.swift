import Synchronization

/// The kernel's interrupt agent: a helper thread that wakes every `period` and forces into the
/// kernel each thread that has a pending event, whatever the guest is doing.
///
/// Events come from three places:
/// - a signal or an `exit_group` (``Process/end(with:)``) — the sender raises the threads'
///   interrupts itself, at once; the agent raises them again each period until the threads
///   have left, which catches a thread created or blocked a moment after the first raise (and
///   a `memory.atomic.wait` entered between the raise and the wake-up);
/// - a CPU-time limit — the agent sums the host CPU clocks of the process's threads;
/// - a wall-clock limit — the agent compares with the process's start.
///
/// Forcing a thread in means: setting the interrupt flag of its instance, which guest code
/// tests at every loop head and function entry (see ``InterruptInstrumentation``), and waking
/// it if it is blocked in a kernel call or in `memory.atomic.wait`.
final class InterruptAgent: @unchecked Sendable {
    let period: UInt64
    private let lock = KernelLock()
    private var isStopped = false
    private var isStarted = false
    /// How many periods the agent has run (tests watch it work).
    let ticks = Atomic<Int>(0)
    private let processes: @Sendable () -> [Process]

    init(period: UInt64, processes: @escaping @Sendable () -> [Process]) {
        self.period = period
        self.processes = processes
    }

    /// Starts the helper thread, once.
    func start() throws(Errno) {
        let shouldStart = lock.withLock { () -> Bool in
            defer { isStarted = true }
            return !isStarted && !isStopped
        }
        guard shouldStart else { return }
        try HostThread.start { [self] in run() }
    }

    /// Stops the helper thread (it ends within one period).
    func stop() {
        lock.withLock {
            isStopped = true
            lock.broadcast()
        }
    }

    private func run() {
        while true {
            let stopped = lock.withLock { () -> Bool in
                if !isStopped { _ = lock.wait(untilMonotonic: monotonicNanoseconds() + period) }
                return isStopped
            }
            if stopped { return }
            tick()
        }
    }

    /// One pass over the running processes.
    func tick() {
        ticks.add(1, ordering: .relaxed)
        let now = monotonicNanoseconds()
        for process in processes() {
            process.enforceTimeLimits(now: now)
            if process.isEnding { process.interruptAllThreads() }
        }
    }
}
