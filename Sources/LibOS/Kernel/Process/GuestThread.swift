#if canImport(Glibc)
import Glibc
#endif
import CLibOSHost

/// One thread of a LibOS process: its own engine instance and interrupt flag, the host thread
/// that runs it, and its scheduling state.
///
/// The kernel reaches a thread in two ways, whatever it is doing (see ``InterruptAgent``):
/// it raises the thread's interrupt through its engine, which running guest code answers at the
/// next loop head or function entry; and it wakes the thread's ``waiter`` if it is blocked in
/// the kernel (``wait(on:until:_:)``).
public final class GuestThread: @unchecked Sendable {
    public let tid: Int32
    let process: Process
    let sched: SchedAgent
    /// Syscalls made by this thread (log lines number them).
    var syscallCount: UInt64 = 0

    /// Guards everything below.
    private let stateLock = KernelLock()
    /// Makes the engine leave this thread's guest code for the kernel (``setInterruptHook(_:)``).
    private var raiseInterrupt: (() -> Void)?
    /// The host thread's CPU clock while it runs this thread, and its reading at `attach`.
    private var cpuClock: clockid_t?
    private var cpuAtAttach: UInt64 = 0

    /// What the thread sleeps on whenever it blocks in the kernel; ``interrupt()`` wakes it.
    let waiter = Waiter()

    init(tid: Int32, process: Process, affinity: CpuSet?) {
        self.tid = tid
        self.process = process
        self.sched = SchedAgent(affinity: affinity)
    }

    // MARK: Host thread

    /// Binds the guest thread to the calling host thread: CPU clock, affinity, `current`.
    func attach() {
        var clock: Int32 = 0
        let hasClock = cloister_host_thread_cpu_clock(&clock) == 0
        stateLock.withLock {
            cpuClock = hasClock ? clockid_t(clock) : nil
            cpuAtAttach = 0
            cpuAtAttach = readCPUClock()
        }
        sched.attach()
        GuestThread.setCurrent(self)
    }

    /// Unbinds it. Returns the CPU time the host thread spent, in nanoseconds.
    func detach() -> UInt64 {
        let used = cpuNanoseconds()
        stateLock.withLock {
            cpuClock = nil
            raiseInterrupt = nil
        }
        sched.detach()
        GuestThread.setCurrent(nil)
        return used
    }

    /// CPU time the host thread spent on this guest thread so far (0 before `attach` and
    /// after `detach`).
    func cpuNanoseconds() -> UInt64 {
        stateLock.withLock { readCPUClock() }
    }

    /// With `stateLock` held.
    private func readCPUClock() -> UInt64 {
        guard let cpuClock else { return 0 }
        let total = hostClockNanoseconds(cpuClock)
        return total >= cpuAtAttach ? total - cpuAtAttach : 0
    }

    // MARK: Interrupts

    /// Installs the engine's way to make this thread's running guest code leave for the kernel
    /// (WasmKit: set the instance's interrupt flag; wasmtime: bump the engine's epoch); raises
    /// it at once when the process is already ending. Nil removes it.
    func setInterruptHook(_ raise: (() -> Void)?) {
        stateLock.withLock { raiseInterrupt = raise }
        if raise != nil, process.isEnding { interrupt() }
    }

    /// Forces the thread into the kernel: raises its interrupt and wakes any kernel wait it is
    /// in. A thread parked in `memory.atomic.wait` wakes at the end of its wait's slice (see
    /// ``InterruptInstrumentation``). Safe to call from any thread, any number of times.
    func interrupt() {
        let raise = stateLock.withLock { raiseInterrupt }
        raise?()
        waiter.wake()
    }

    // MARK: Blocking in the kernel

    /// Blocks until `attempt` returns a value, one of `interests` notifies and `attempt` then
    /// does, the monotonic `deadline` passes (`ETIMEDOUT`), or the process starts to end
    /// (`EINTR`). The kernel's one way to block a guest thread (``Waiter/block(on:until:isInterrupted:_:)``).
    func wait<T>(on interests: [WaitInterest], until deadline: UInt64? = nil, _ attempt: () throws(Errno) -> T?) throws(Errno) -> T {
        try waiter.block(on: interests, until: deadline, isInterrupted: { process.isEnding }, attempt)
    }

    // MARK: The current thread

    nonisolated(unsafe) private static var currentKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The guest thread the calling host thread runs, if any.
    static var current: GuestThread? {
        guard let pointer = pthread_getspecific(currentKey) else { return nil }
        return Unmanaged<GuestThread>.fromOpaque(pointer).takeUnretainedValue()
    }

    private static func setCurrent(_ thread: GuestThread?) {
        pthread_setspecific(currentKey, thread.map { Unmanaged.passUnretained($0).toOpaque() })
    }
}
