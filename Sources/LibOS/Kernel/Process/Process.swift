import Synchronization

/// A LibOS process: one guest program with its own instance, file table and limits.
public final class Process: @unchecked Sendable {
    /// The lifecycle of a process in the process table.
    enum State {
        case created
        case running
        case exited(WaitStatus)
    }

    public let pid: Int32
    /// The guest path the program was started from.
    public let path: String
    public let arguments: [String]
    public let environment: [String]
    let program: LoadedProgram
    let files: FileTable
    unowned let kernel: Kernel

    /// Guarded by `kernel.lock`.
    var state: State = .created
    /// A signal sent to the process and not yet acted on; 0 when none.
    private let pendingSignal = Atomic<Int32>(0)
    /// Wakes the process from a blocking kernel wait when a signal arrives.
    let wakeup = KernelLock()
    /// Bytes of linear memory the process holds against the instance's `user_space_size`.
    let memoryReservation = Atomic<Int>(0)
    /// Counts the syscalls the process made (shown in log lines).
    var syscallCount: UInt64 = 0
    /// The host thread CPU clock at the start of `exec`.
    var cpuClockStart: UInt64 = 0

    init(pid: Int32, path: String, arguments: [String], environment: [String], program: LoadedProgram, files: FileTable, kernel: Kernel) {
        self.pid = pid
        self.path = path
        self.arguments = arguments
        self.environment = environment
        self.program = program
        self.files = files
        self.kernel = kernel
    }

    /// The signal waiting to be acted on, if any.
    @inline(__always)
    var pendingTermination: Signal? {
        let value = pendingSignal.load(ordering: .acquiring)
        return value == 0 ? nil : Signal(rawValue: value)
    }

    /// Sets the guest's interrupt flag (see ``InterruptInstrumentation``); guarded by `wakeup`.
    private var raiseInterrupt: (() -> Void)?

    /// Installs the engine's way to interrupt the running guest, raising it at once when a
    /// signal is already pending; `nil` removes it when the guest has ended.
    func setInterrupt(_ raise: (() -> Void)?) {
        wakeup.withLock {
            raiseInterrupt = raise
            if pendingTermination != nil { raise?() }
        }
    }

    /// Records `signal` for the process, interrupts guest code that is running and wakes the
    /// process if it sleeps in the kernel.
    func deliver(_ signal: Signal) {
        _ = pendingSignal.compareExchange(expected: 0, desired: signal.rawValue, ordering: .acquiringAndReleasing)
        wakeup.withLock {
            raiseInterrupt?()
            wakeup.broadcast()
        }
    }

    /// Sleeps until the monotonic `deadline` or a signal. Returns false when a signal woke it.
    func sleep(untilMonotonic deadline: UInt64) -> Bool {
        wakeup.withLock {
            while pendingTermination == nil {
                if monotonicNanoseconds() >= deadline { return true }
                _ = wakeup.wait(untilMonotonic: deadline)
            }
            return false
        }
    }
}

/// The error that unwinds a guest out of the engine when its process ends.
enum ProcessTermination: Error {
    case exited(Int32)
    case signaled(Signal)
}
