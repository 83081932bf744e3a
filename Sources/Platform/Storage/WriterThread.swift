import Foundation
import Synchronization

/// A thread of its own that runs the jobs of the tasks that prefer it (`Task(executorPreference:)`):
/// where the SQLite writer runs its transactions.
///
/// A transaction's statements then run one after another on this thread with no hand-off between
/// them, and what blocks — `BEGIN IMMEDIATE` waiting for another process's write lock, `COMMIT`
/// waiting for its fsync — blocks this thread, never one of the few threads of Swift's cooperative
/// pool that every request shares.
final class WriterThread: TaskExecutor, Sendable {
    private struct Queue {
        var jobs: [UnownedJob] = []
        var stopped = false
    }
    private let queue = Mutex(Queue())
    private let ready = DispatchSemaphore(value: 0)

    init(name: String) {
        let thread = Thread { [self] in loop() }
        thread.name = name
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.withLock { $0.jobs.append(job) }
        ready.signal()
    }

    private func loop() {
        while true {
            ready.wait()
            let next = queue.withLock { queue -> UnownedJob? in
                queue.jobs.isEmpty ? nil : queue.jobs.removeFirst()
            }
            guard let next else {
                if queue.withLock({ $0.stopped }) { return }
                continue
            }
            next.runSynchronously(on: asUnownedTaskExecutor())
        }
    }

    /// Ends the thread once the jobs queued so far have run.
    func stop() {
        queue.withLock { $0.stopped = true }
        ready.signal()
    }
}
