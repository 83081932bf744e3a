import CloisterAPI
import Executors
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A pool of workers: each slot claims a staged task, runs it under a heartbeat and records how it
/// ended; the pool also settles tasks whose worker (in any process) stopped sending heartbeats.
///
/// On graceful shutdown the pool stops claiming, stops the functions it runs and puts their tasks
/// back in the queue, so that the next start runs them; nothing is lost.
public final class WorkerPool: Sendable {
    /// This pool's name in the task records (`<host>:<pid>:<random>`); slots are `<name>/<n>`.
    public let name: String
    let concurrency: Int
    let queue: TaskQueue
    let runner: TaskRunner
    let signal: WakeSignal
    let heartbeatInterval: Duration
    let staleAfter: TimeInterval
    let logger: Logger
    private let running = Mutex<[String: FunctionRuntime]>([:])
    private let stopping = Atomic<Bool>(false)

    init(
        concurrency: Int, queue: TaskQueue, runner: TaskRunner, signal: WakeSignal, heartbeatInterval: Duration,
        staleAfter: TimeInterval, logger: Logger
    ) {
        name = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        self.concurrency = concurrency
        self.queue = queue
        self.runner = runner
        self.signal = signal
        self.heartbeatInterval = heartbeatInterval
        self.staleAfter = staleAfter
        self.logger = logger
    }

    /// Runs the slots and the recovery of lost tasks until the task is canceled or a graceful
    /// shutdown begins.
    public func run() async {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for slot in 0..<concurrency {
                    group.addTask { await self.slotLoop("\(self.name)/\(slot)") }
                }
                group.addTask { await self.recoveryLoop() }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops claiming and stops every running function (their tasks go back to the queue).
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        for runtime in running.withLock({ Array($0.values) }) { runtime.cancel() }
        signal.signal()
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Stops task `id` if it runs in this pool (a cancel).
    func cancel(_ id: String) {
        running.withLock { $0[id] }?.cancel()
    }

    private func slotLoop(_ worker: String) async {
        while !isStopping, !Task.isCancelled {
            do {
                if let task = try await queue.claim(worker: worker) {
                    await execute(task, worker: worker)
                } else {
                    await signal.wait(timeout: .milliseconds(500))
                }
            } catch {
                logger.error("worker \(worker): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func recoveryLoop() async {
        while !isStopping, !Task.isCancelled {
            do {
                if try await queue.recoverStale(after: staleAfter) > 0 { signal.signal() }
            } catch {
                logger.error("recovery: \(error)")
            }
            try? await Task.sleep(for: .seconds(max(0.2, min(staleAfter / 4, 2))))
        }
    }

    private func execute(_ task: TaskRecord, worker: String) async {
        let folder = runner.workFolder + "/\(task.id)-\(task.attempts)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        logger.info("worker \(worker): running \(task.id) (\(task.functionName) on \(task.executor))")
        var result = TaskResult(returnValue: "", outputTags: [:], log: "")
        var failure: String?
        do {
            let prepared = try await runner.prepare(task, folder: folder)
            running.withLock { $0[task.id] = prepared.runtime }
            defer { _ = running.withLock { $0.removeValue(forKey: task.id) } }
            guard !isStopping, try await queue.heartbeat(task.id, worker: worker, started: true) == .running else {
                if isStopping { try? await queue.release(task.id, worker: worker) }
                return
            }
            let heartbeats = Task {
                while !Task.isCancelled {
                    try? await Task.sleep(for: heartbeatInterval)
                    if Task.isCancelled { break }
                    if let state = try? await queue.heartbeat(task.id, worker: worker), state != .running {
                        prepared.runtime.cancel()
                        break
                    }
                }
            }
            defer { heartbeats.cancel() }
            do {
                let value = try await runOnThread(name: "cloister-task") { try prepared.run() }
                // Canceled (or taken away) while it ran: deliver nothing.
                guard try await queue.heartbeat(task.id, worker: worker) == .running else { return }
                let tags = try await runner.deliverOutputs(task, runtime: prepared.runtime)
                result = TaskResult(returnValue: value, outputTags: tags, log: prepared.runtime.log, engine: prepared.runtime.engine?.rawValue)
            } catch {
                if isStopping {
                    try? await queue.release(task.id, worker: worker)
                    return
                }
                result.log = prepared.runtime.log
                result.engine = prepared.runtime.engine?.rawValue
                failure = "\(error)"
            }
        } catch {
            failure = "\(error)"
        }
        do {
            _ = try await queue.complete(task.id, worker: worker, result: result, failure: failure)
        } catch {
            logger.error("worker \(worker): could not record the end of \(task.id): \(error)")
        }
    }
}
