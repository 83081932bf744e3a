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
    /// How to stop each task this pool holds: its staging (a download, a copy) or its function.
    private let running = Mutex<[String: @Sendable () -> Void]>([:])
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
        for stop in running.withLock({ Array($0.values) }) { stop() }
        signal.signal()
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Stops task `id` if it runs in this pool (a cancel).
    func cancel(_ id: String) {
        running.withLock { $0[id] }?()
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

    /// Runs a claimed task. The heartbeat starts with the claim, so that staging (a download of
    /// minutes) counts as the worker being alive; a heartbeat that finds the task canceled or taken
    /// away stops whatever runs, staging included.
    private func execute(_ task: TaskRecord, worker: String) async {
        let folder = runner.workFolder + "/\(task.id)-\(task.attempts)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        logger.info("worker \(worker): running \(task.id) (\(task.functionName) on \(task.executor))")
        let staging = Task { try await runner.prepare(task, folder: folder) }
        let runtime = RuntimeSlot()
        let stop: @Sendable () -> Void = {
            staging.cancel()
            runtime.cancel()
        }
        running.withLock { $0[task.id] = stop }
        defer { _ = running.withLock { $0.removeValue(forKey: task.id) } }
        let heartbeats = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: heartbeatInterval)
                if Task.isCancelled { break }
                if let held = try? await queue.heartbeat(task.id, worker: worker), !held {
                    stop()
                    break
                }
            }
        }
        defer { heartbeats.cancel() }
        var result = TaskResult(returnValue: "", outputTags: [:], log: "")
        var failure: String?
        do {
            let prepared = try await staging.value
            runtime.attach(prepared.runtime)
            guard !isStopping, try await queue.heartbeat(task.id, worker: worker, started: true) else {
                if isStopping { try? await queue.release(task.id, worker: worker) }
                return
            }
            do {
                let value = try await runOnThread(name: "cloister-task") { try prepared.run() }
                // Canceled (or taken away) while it ran: deliver nothing.
                guard try await queue.heartbeat(task.id, worker: worker) else { return }
                let tags = try await runner.deliverOutputs(task, runtime: prepared.runtime)
                result = TaskResult(returnValue: value, outputTags: tags, log: prepared.runtime.log, engine: prepared.runtime.engine?.rawValue)
            } catch {
                if isStopping {
                    try? await queue.release(task.id, worker: worker)
                    return
                }
                result.log = prepared.runtime.log
                result.engine = prepared.runtime.engine?.rawValue
                failure = runner.reason(for: error, task: task.id)
            }
        } catch {
            if isStopping {
                try? await queue.release(task.id, worker: worker)
                return
            }
            // Staging stopped because the task was canceled or taken away: nothing to record.
            if error is CancellationError || staging.isCancelled { return }
            failure = runner.reason(for: error, task: task.id)
        }
        do {
            _ = try await queue.complete(task.id, worker: worker, result: result, failure: failure)
        } catch {
            logger.error("worker \(worker): could not record the end of \(task.id): \(error)")
        }
    }
}

/// The function runtime of a task once staging made it, for a stop that may come at any time.
private final class RuntimeSlot: Sendable {
    private let runtime = Mutex<FunctionRuntime?>(nil)
    private let canceled = Atomic<Bool>(false)

    /// Attaches the runtime; cancels it at once if a stop came first.
    func attach(_ value: FunctionRuntime) {
        runtime.withLock { $0 = value }
        if canceled.load(ordering: .sequentiallyConsistent) { value.cancel() }
    }

    func cancel() {
        canceled.store(true, ordering: .sequentiallyConsistent)
        runtime.withLock { $0 }?.cancel()
    }
}
