import Foundation
import Synchronization

/// Runs an action once after a delay unless stopped first: a run's deadline.
final class Watchdog: Sendable {
    private let fired = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)

    /// Runs `action` after `nanoseconds` unless ``stop()`` is called first.
    init(after nanoseconds: UInt64, _ action: @escaping @Sendable () -> Void) {
        let delay = DispatchTimeInterval.nanoseconds(Int(clamping: nanoseconds))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [self] in
            guard !stopped.load(ordering: .acquiring) else { return }
            fired.store(true, ordering: .releasing)
            action()
        }
    }

    /// Stops the watchdog; whether its action had already run.
    @discardableResult
    func stop() -> Bool {
        stopped.store(true, ordering: .releasing)
        return fired.load(ordering: .acquiring)
    }
}
