/// What one waitable condition is for a wait: a queue and the events wanted from it.
public struct WaitInterest {
    public let queue: WaiterQueue
    public let events: Events

    public init(_ queue: WaiterQueue, _ events: Events) {
        self.queue = queue
        self.events = events
    }
}

/// A thread's means of sleeping until something it registered for happens: the one way the
/// kernel blocks (``block(on:until:isInterrupted:_:)``).
///
/// Each guest thread owns one (``GuestThread/waiter``); interrupting the thread wakes it. A
/// wake-up is a sticky flag, cleared at the start of every check: one that comes between the
/// check and the sleep is not lost, so the register → check → sleep order needs no lock shared
/// with whoever notifies.
public final class Waiter: @unchecked Sendable {
    private let lock = KernelLock()
    private var isWokenFlag = false

    public init() {}

    /// Wakes the waiter (a queue it registered on changed, or its thread is interrupted). From
    /// any thread, any number of times.
    func wake() {
        lock.withLock {
            isWokenFlag = true
            lock.broadcast()
        }
    }

    /// Whether a wake-up came since the last check (tests look).
    var isWoken: Bool { lock.withLock { isWokenFlag } }

    /// Forgets earlier wake-ups: what they announced is about to be checked.
    private func clear() {
        lock.withLock { isWokenFlag = false }
    }

    /// Sleeps until woken since the last `clear` or until the monotonic `deadline`.
    private func sleep(until deadline: UInt64?) {
        lock.withLock {
            while !isWokenFlag {
                if !lock.wait(untilMonotonic: deadline), let deadline, monotonicNanoseconds() >= deadline { return }
            }
        }
    }

    /// Blocks until `attempt` returns a value, the monotonic `deadline` passes (`ETIMEDOUT`), or
    /// `isInterrupted` holds (`EINTR`; checked before every attempt, so a thread whose process
    /// is ending never starts a wait).
    ///
    /// `attempt` takes whatever locks its object needs; it runs once before any registration
    /// (a ready object costs no queue traffic), then after registering on every interest's
    /// queue, and again after each wake-up. Whoever changes what `attempt` looks at notifies
    /// the object's queue after the change.
    func block<T>(
        on interests: [WaitInterest], until deadline: UInt64?, isInterrupted: () -> Bool, _ attempt: () throws(Errno) -> T?
    ) throws(Errno) -> T {
        if isInterrupted() { throw .intr }
        if let value = try attempt() { return value }
        if let deadline, monotonicNanoseconds() >= deadline { throw .timedout }
        var registrations: [WaiterQueue.Registration] = []
        registrations.reserveCapacity(interests.count)
        defer { for registration in registrations { registration.queue.remove(registration) } }
        for interest in interests {
            registrations.append(try interest.queue.add(self, for: interest.events))
        }
        while true {
            clear()
            if isInterrupted() { throw .intr }
            if let value = try attempt() { return value }
            if let deadline, monotonicNanoseconds() >= deadline { throw .timedout }
            sleep(until: deadline)
        }
    }
}

/// Blocking for kernel objects, whoever calls: the calling guest thread's wait
/// (``GuestThread/wait(on:until:_:)``, interruptible), or — on a host thread that runs no guest,
/// such as the entry API loading a program — a wait nothing interrupts.
enum Blocking {
    static func wait<T>(
        on interests: [WaitInterest], until deadline: UInt64? = nil, _ attempt: () throws(Errno) -> T?
    ) throws(Errno) -> T {
        if let thread = GuestThread.current { return try thread.wait(on: interests, until: deadline, attempt) }
        return try Waiter().block(on: interests, until: deadline, isInterrupted: { false }, attempt)
    }
}
