/// Lets a thread that starts another wait until the new one has started, or learn why not.
final class StartupHandshake: @unchecked Sendable {
    private let lock = KernelLock()
    private var outcome: Result<Void, Errno>?

    func succeed() { complete(.success(())) }
    func fail(_ error: Errno) { complete(.failure(error)) }

    private func complete(_ result: Result<Void, Errno>) {
        lock.withLock {
            if outcome == nil { outcome = result }
            lock.broadcast()
        }
    }

    /// Waits for the outcome; rethrows the new thread's start error.
    func wait() throws(Errno) {
        let result = lock.withLock { () -> Result<Void, Errno> in
            while true {
                if let outcome { return outcome }
                _ = lock.wait(untilMonotonic: nil)
            }
        }
        try result.get()
    }
}
