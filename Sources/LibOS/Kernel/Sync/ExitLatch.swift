/// Lets the caller of `exec` wait for the status its process ends with, which the process's
/// main host thread reports.
final class ExitLatch: @unchecked Sendable {
    private let lock = KernelLock()
    private var status: WaitStatus?

    func set(_ value: WaitStatus) {
        lock.withLock {
            status = value
            lock.broadcast()
        }
    }

    /// Waits for the status.
    func wait() -> WaitStatus {
        lock.withLock {
            while true {
                if let status { return status }
                _ = lock.wait(untilMonotonic: nil)
            }
        }
    }
}
