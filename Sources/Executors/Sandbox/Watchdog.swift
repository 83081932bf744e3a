import Foundation
import Synchronization

/// Runs an action once after a delay unless stopped first: a run's deadline.
///
/// Its own thread waits, not a Dispatch queue: a deadline must fire even when every worker
/// thread of the host process is busy running functions.
final class Watchdog: Sendable {
    /// What the waiting thread and ``stop()`` share.
    private final class Shared: Sendable {
        let state = Mutex<(stopped: Bool, fired: Bool)>((false, false))
        let wakeUp = DispatchSemaphore(value: 0)
    }
    private let shared = Shared()

    /// Runs `action` after `nanoseconds` unless ``stop()`` is called first.
    init(after nanoseconds: UInt64, _ action: @escaping @Sendable () -> Void) {
        let thread = Thread { [shared] in
            let timedOut = shared.wakeUp.wait(timeout: .now() + .nanoseconds(Int(clamping: nanoseconds))) == .timedOut
            let fire = timedOut && shared.state.withLock { state -> Bool in
                guard !state.stopped else { return false }
                state.fired = true
                return true
            }
            if fire { action() }
        }
        thread.name = "cloister-deadline"
        thread.start()
    }

    /// Stops the watchdog; whether its action had already run.
    @discardableResult
    func stop() -> Bool {
        let (wasStopped, fired) = shared.state.withLock { state -> (Bool, Bool) in
            defer { state.stopped = true }
            return (state.stopped, state.fired)
        }
        if !wasStopped { shared.wakeUp.signal() }
        return fired
    }
}
