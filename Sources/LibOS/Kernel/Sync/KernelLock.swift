#if canImport(Glibc)
import Glibc
#endif

/// A mutex with a condition variable, for the kernel's shared state and its blocking waits.
public final class KernelLock: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()

    public init() {
        pthread_mutex_init(&mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(&condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(&condition)
        pthread_mutex_destroy(&mutex)
    }

    /// Runs `body` holding the lock.
    @inline(__always)
    public func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return try body()
    }

    /// Waits, with the lock held, until woken or until the monotonic `deadline` (nanoseconds).
    /// Returns false when the deadline passed.
    func wait(untilMonotonic deadline: UInt64?) -> Bool {
        guard let deadline else {
            pthread_cond_wait(&condition, &mutex)
            return true
        }
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        return pthread_cond_timedwait(&condition, &mutex, &ts) == 0
    }

    /// Wakes every waiter. Call with or without the lock held.
    public func broadcast() {
        pthread_cond_broadcast(&condition)
    }
}
