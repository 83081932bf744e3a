import Foundation
import Synchronization

/// The threads that run bcrypt, apart from Swift's cooperative pool: a hash takes a core for a
/// fifth of a second (cost 12), so hashing on the cooperative pool would let a flood of logins
/// stall every other request. A bounded queue: past `queueLimit` waiting jobs a call is refused
/// at once (429) instead of waiting behind the flood.
final class BcryptPool: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var stopped = false
    }
    private let state = Mutex(State())
    private let ready = DispatchSemaphore(value: 0)
    private let threads: Int
    let queueLimit: Int

    /// `threads` hashing threads (at least 1) and at most `queueLimit` jobs waiting for them.
    init(threads: Int, queueLimit: Int) {
        self.threads = max(1, threads)
        self.queueLimit = max(1, queueLimit)
        for index in 0..<self.threads {
            let thread = Thread { [self] in work() }
            thread.name = "cloister-bcrypt-\(index)"
            thread.start()
        }
    }

    private func work() {
        while true {
            ready.wait()
            let job = state.withLock { state -> (@Sendable () -> Void)? in
                state.jobs.isEmpty ? nil : state.jobs.removeFirst()
            }
            guard let job else { return }  // woken to stop
            job()
        }
    }

    /// Runs `body` on one of the pool's threads; a 429 when `queueLimit` jobs wait already.
    func run<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(PlatformError) -> T {
        let result: T? = await withCheckedContinuation { continuation in
            let accepted = state.withLock { state -> Bool in
                guard !state.stopped, state.jobs.count < queueLimit else { return false }
                state.jobs.append { continuation.resume(returning: body()) }
                return true
            }
            if accepted { ready.signal() } else { continuation.resume(returning: nil) }
        }
        guard let result else {
            throw .tooManyRequests("the server is busy checking passwords; try again in a moment", retryAfter: 1)
        }
        return result
    }

    /// Ends the threads once the jobs queued so far are done; later calls are refused.
    func shutdown() {
        state.withLock { $0.stopped = true }
        // Each thread takes one signal per job and stops on the first signal that finds no job.
        for _ in 0..<threads { ready.signal() }
    }
}
