import CloisterAPI
import Executors
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Test hooks of a worker pool: awaited at fixed points of a run, to place a cancel or a crash
/// exactly there.
struct WorkerHooks: Sendable {
    /// Awaited after the run's outputs are staged for delivery, before its end is committed.
    var beforeComplete: (@Sendable (_ task: String) async -> Void)?
    /// Awaited after the end is committed, before the outputs are moved into place.
    var beforePublish: (@Sendable (_ task: String) async -> Void)?
    /// False: the pool leaves expired leases alone, for a test that settles them itself
    /// (`TaskQueue.recoverExpired`) and must be the only one that does.
    var settlesLeases = true
}

/// A pool of workers: each slot claims a staged task it can run, runs it under a lease renewed by
/// heartbeats and records how it ended. At most `concurrency` functions run at once (the run
/// permits), and twice as many slots claim, stage and record, so that no function waits for a
/// commit: while one slot's run ends in a commit, another's runs. The pool also settles the tasks
/// whose lease ran out (their worker, in any process on any host, stopped) and finishes or clears
/// output deliveries that a stopped worker left pending.
///
/// The pool advertises what it runs in the `workers` table (its `WorkerCapability`s: executor type,
/// executor and engine) and claims only such tasks. It wakes when a task is queued — at once in the
/// process that queued it, through `LISTEN/NOTIFY` in others on PostgreSQL, and at the latest after
/// a short poll (another process on the same SQLite file).
///
/// On graceful shutdown the pool stops claiming, stops the functions it runs and puts their tasks
/// back in the queue, so that the next start (or another worker) runs them; nothing is lost.
public final class WorkerPool: Sendable {
    /// This pool's name in the task records (`<host>:<pid>:<random>`); slots are `<name>/<n>`.
    public let name: String
    let concurrency: Int
    let queue: TaskQueue
    let runner: TaskRunner
    let directory: WorkerDirectory
    /// What this pool runs.
    public let capabilities: [WorkerCapability]
    /// The key that signs the receipts of the tasks this pool runs (its worker identity).
    let identity: SigningIdentity
    let keys: WorkerKeys
    let heartbeatInterval: Duration
    let staleAfter: TimeInterval
    let hooks: WorkerHooks
    let logger: Logger
    let signal = WakeSignal()
    /// One per function that may run at once.
    private let permits: RunPermits
    /// How to stop each task this pool holds: its staging (a download, a copy) or its function.
    private let running = Mutex<[String: @Sendable () -> Void]>([:])
    private let stopping = Atomic<Bool>(false)

    init(
        concurrency: Int, queue: TaskQueue, runner: TaskRunner, directory: WorkerDirectory, capabilities: [WorkerCapability],
        identity: SigningIdentity, heartbeatInterval: Duration, staleAfter: TimeInterval, hooks: WorkerHooks, logger: Logger
    ) {
        name = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8).lowercased())"
        self.concurrency = concurrency
        permits = RunPermits(concurrency)
        self.queue = queue
        self.runner = runner
        self.directory = directory
        self.capabilities = capabilities
        self.identity = identity
        keys = WorkerKeys(database: queue.database)
        self.heartbeatInterval = heartbeatInterval
        self.staleAfter = staleAfter
        self.hooks = hooks
        self.logger = logger
    }

    /// How long an idle slot waits for a wake-up before it looks at the queue anyway: short on
    /// SQLite, where another process's tasks wake nobody here, longer where notifications cross
    /// processes.
    private var idlePoll: Duration { queue.database.kind == .sqlite ? .milliseconds(500) : .seconds(5) }

    /// Runs the slots and the recovery of lost tasks until the task is canceled or a graceful
    /// shutdown begins.
    public func run() async {
        let subscription = queue.database.subscribe { [weak self] event in
            guard let self else { return }
            switch event {
            case .queued: self.signal.signal()
            case .canceled(let id): self.cancel(id)
            case .changed: break
            }
        }
        defer { queue.database.unsubscribe(subscription) }
        if concurrency > 0 {
            // The executable's hash goes in every receipt: read it once, off the cooperative pool.
            _ = try? await runOnThread(name: "cloister-digest") { RunEvidence.executableSha256 }
            do {
                try await keys.register(identity, name: name)
                try await directory.register(id: name, slots: concurrency, capabilities: capabilities, keyId: identity.keyId)
            } catch {
                logger.error("worker pool \(name): could not register: \(error)")
            }
        }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for slot in 0..<(concurrency * 2) {
                    group.addTask { await self.slotLoop("\(self.name)/\(slot)") }
                }
                group.addTask { await self.recoveryLoop() }
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.stop()
        }
        if concurrency > 0 { try? await directory.remove(id: name) }
    }

    /// Stops claiming and stops every running function (their tasks go back to the queue).
    public func stop() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        for stop in running.withLock({ Array($0.values) }) { stop() }
        signal.signalAll()
    }

    private var isStopping: Bool { stopping.load(ordering: .sequentiallyConsistent) }

    /// Stops task `id` if it runs in this pool (a cancel).
    func cancel(_ id: String) {
        running.withLock { $0[id] }?()
    }

    private func slotLoop(_ worker: String) async {
        while !isStopping, !Task.isCancelled {
            do {
                if let task = try await queue.claim(worker: worker, capabilities: capabilities) {
                    await execute(task, worker: worker)
                } else {
                    await signal.wait(timeout: idlePoll)
                }
            } catch {
                logger.error("worker \(worker): \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Settles expired leases, keeps this pool's entry in the `workers` table fresh, and sweeps the
    /// output deliveries left pending by workers that stopped.
    private func recoveryLoop() async {
        let period = max(0.2, min(staleAfter / 4, 2))
        var lastTouch = ContinuousClock.now
        while !isStopping, !Task.isCancelled {
            do {
                if hooks.settlesLeases, try await queue.recoverExpired() > 0 { signal.signalAll() }
                if concurrency > 0, ContinuousClock.now - lastTouch > .seconds(period * 2) {
                    try await directory.touch(id: name, forgetAfter: Int(staleAfter * 4000))
                    lastTouch = ContinuousClock.now
                }
                // Not the deliveries this pool's own workers are making: only those of workers that stopped.
                try await runner.sweepDeliveries(except: running.withLock { Set($0.keys) })
            } catch {
                logger.error("recovery: \(error)")
            }
            try? await Task.sleep(for: .seconds(period))
        }
    }

    /// Runs a claimed task. The heartbeat starts with the claim, so that staging (a download of
    /// minutes) counts as the worker being alive; a heartbeat that finds the task canceled or taken
    /// away stops whatever runs, staging included. The run's end, its result and its outputs' tags
    /// are committed together, and only if this worker still holds the attempt; the outputs are
    /// moved into place after that commit (`OutputDelivery`).
    private func execute(_ task: TaskRecord, worker: String) async {
        let attempt = task.attempts
        let folder = runner.workFolder + "/\(task.id)-\(attempt)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        logger.info("worker \(worker): running \(task.id) (\(task.functionName) on \(task.executor), attempt \(attempt))")
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
                if let held = try? await queue.heartbeat(task.id, worker: worker, attempt: attempt), !held {
                    stop()
                    break
                }
            }
        }
        defer { heartbeats.cancel() }
        var result = TaskResult(returnValue: "", outputTags: [:], log: "")
        var failure: String?
        var delivery: [String: String] = [:]
        var evidence = RunEvidence(runtimeSha256: RunEvidence.executableSha256)
        do {
            let prepared = try await staging.value
            evidence.inputs = prepared.inputHashes
            runtime.attach(prepared.runtime)
            guard !isStopping else {
                try? await queue.release(task.id, worker: worker, attempt: attempt)
                return
            }
            do {
                await permits.acquire()
                defer { permits.release() }
                if runtime.isCanceled || isStopping { throw CancellationError() }
                let value = try await runOnThread(name: "cloister-task") { try prepared.run() }
                let staged = try await runner.stageOutputs(task, runtime: prepared.runtime)
                delivery = staged.delivery
                evidence.outputs = staged.hashes
                result = TaskResult(
                    returnValue: value, outputTags: staged.tags, log: prepared.runtime.log, engine: prepared.runtime.engine?.rawValue)
            } catch {
                if isStopping {
                    try? await queue.release(task.id, worker: worker, attempt: attempt)
                    return
                }
                // Stopped because the task was canceled or taken away: nothing to record.
                if runtime.isCanceled { return }
                result.log = prepared.runtime.log
                result.engine = prepared.runtime.engine?.rawValue
                failure = runner.reason(for: error, task: task.id)
            }
        } catch {
            if isStopping {
                try? await queue.release(task.id, worker: worker, attempt: attempt)
                return
            }
            // Staging stopped because the task was canceled or taken away: nothing to record.
            if error is CancellationError || staging.isCancelled { return }
            failure = runner.reason(for: error, task: task.id)
        }
        if let beforeComplete = hooks.beforeComplete { await beforeComplete(task.id) }
        await record(task, worker: worker, attempt: attempt, result: result, failure: failure, delivery: delivery, evidence: evidence)
    }

    /// Commits the end of a run, then moves its outputs into place (or clears them when the commit
    /// was refused).
    private func record(
        _ task: TaskRecord, worker: String, attempt: Int, result: TaskResult, failure: String?, delivery: [String: String],
        evidence: RunEvidence
    ) async {
        let outputs = runner.data.delivery
        do {
            let written = try await queue.complete(
                task.id, worker: worker, attempt: attempt, result: result, failure: failure, delivery: delivery, evidence: evidence,
                signer: identity)
            if written.state == .finished {
                if let beforePublish = hooks.beforePublish { await beforePublish(task.id) }
                for (name, pending) in delivery.sorted(by: { $0.key < $1.key }) {
                    guard let fileId = task.assignedOutputs[name],
                        let file = try await queue.database.record(FileRecord.self, fileId)
                    else { continue }
                    do {
                        try outputs.publish(pending, to: try runner.data.destination(of: file))
                    } catch {
                        logger.error("task \(task.id) output \(name): could not move it into place (it stays pending): \(error)")
                    }
                }
            }
            outputs.discard(task: task.id, attempt: attempt)
        } catch is LeaseLost {
            // Canceled, or taken over after the lease ran out: this run delivers nothing.
            outputs.discard(task: task.id, attempt: attempt)
        } catch {
            // Whether the commit happened is unknown: the sweep settles the pending outputs once the
            // task's state says.
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

    var isCanceled: Bool { canceled.load(ordering: .sequentiallyConsistent) }
}

/// The run permits of a pool: how many functions may run at once. A slot waits for one before it
/// runs its function and gives it back when the run and its outputs' staging are done.
final class RunPermits: Sendable {
    private struct State {
        var available: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    init(_ count: Int) { state = Mutex(State(available: count)) }

    /// How many slots wait for a permit.
    var waiting: Int { state.withLock { $0.waiting.count } }

    func acquire() async {
        await withCheckedContinuation { continuation in
            let granted = state.withLock { state -> Bool in
                guard state.available > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.available -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the permit to the first slot waiting for one, or puts it back.
    func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.available += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
