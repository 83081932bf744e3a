import Foundation
import Synchronization

/// Wakes idle workers when a task is queued; a wait also ends after a timeout, so workers
/// notice tasks queued by another process.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiters: [UUID: CheckedContinuation<Void, Never>] = [:]
    }
    private let state = Mutex(State())

    /// Wakes one waiter (or the next one to wait, when none waits): one task queued needs one idle
    /// worker, and waking them all sent each to claim it, one to find it and the rest to spend a
    /// transaction finding nothing. A worker claims until it finds nothing before it waits again,
    /// so a signal that found everyone busy is not lost.
    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let (id, waiter) = state.waiters.first else {
                state.pending = true
                return nil
            }
            state.waiters.removeValue(forKey: id)
            return waiter
        }
        waiter?.resume()
    }

    /// Wakes every waiter (or the next one to wait, when none waits): a stop, or several tasks queued again at once.
    func signalAll() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            if state.waiters.isEmpty { state.pending = true }
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// How many wait now.
    var waiting: Int { state.withLock { $0.waiters.count } }

    /// Returns on a signal or after `timeout`.
    func wait(timeout: Duration) async {
        let id = UUID()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let ready = self.state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiters[id] = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
            group.cancelAll()
        }
    }
}
