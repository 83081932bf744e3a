import APIServer
import ArgumentParser
import CloisterAPI
import CloisterClient
import Executors
import Foundation
import Logging
import Platform
import ServiceLifecycle
import Synchronization

/// `cloister bench-platform`: end-to-end latency and throughput of tasks through the HTTP API
/// (`make bench-platform`; figures in docs/PERFORMANCE.md): a builtin echo by default, or a small
/// numpy and pandas function on the scientific Python executor.
struct BenchPlatformCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-platform",
        abstract: "Measure a task end to end (create → approve → invoke → result) and throughput under many clients.",
        discussion: """
            Starts a server of its own (SQLite in a temporary folder, or a new database on the \
            PostgreSQL server --database names, dropped afterwards; a free loopback port) and \
            drives it over HTTP. The function is private, so each task has two participants and \
            two approvals. Latency: one client, one task at a time. Throughput: --clients clients \
            at once, each running its tasks one after another. With --worker-processes P the \
            server runs no task: P `cloister worker` processes of this binary do, each with \
            --workers slots. --function python-sci runs a 10-row pandas sum on the scientific \
            Python executor instead of builtin-echo; its latency tasks start --pause-ms apart \
            (default 3000 for it), so that each finds a warm interpreter with numpy and pandas \
            imported, as a task does that does not arrive right behind another.
            """
    )

    /// The function each task runs.
    enum Function: String, ExpressibleByArgument, CaseIterable {
        case builtinEcho = "builtin-echo"
        case pythonScientific = "python-sci"
    }

    @Option(help: "The function: builtin-echo or python-sci.") var function: Function = .builtinEcho
    @Option(name: .customLong("pause-ms"), help: "Milliseconds between two latency tasks (default: 0; 3000 for python-sci).")
    var pauseMilliseconds: Int?
    @Option(help: "Tasks timed one at a time.") var tasks: Int = 200
    @Option(help: "Clients at once for the throughput run.") var clients: Int = 16
    @Option(name: .customLong("tasks-per-client"), help: "Tasks each client runs in the throughput run.") var tasksPerClient: Int = 25
    @Option(help: "Workers of the server (or of each worker process).") var workers: Int = 2
    @Option(name: .customLong("worker-processes"), help: "Separate `cloister worker` processes (0: the server's own workers).")
    var workerProcesses: Int = 0
    @Option(
        help: ArgumentHelp(
            "A PostgreSQL server to measure on (postgres://user:password@host:port/database; the bench creates and drops a database of its own there). Default: SQLite.",
            valueName: "url"))
    var database: String?

    func validate() throws {
        guard tasks > 0, clients > 0, tasksPerClient > 0, workers > 0, workerProcesses >= 0, (pauseMilliseconds ?? 0) >= 0 else {
            throw ValidationError("--tasks, --clients, --tasks-per-client and --workers must be positive; --worker-processes and --pause-ms not negative")
        }
        if let database {
            guard case .postgres = try? DatabaseLocation(parsing: database) else { throw ValidationError("--database takes a postgres:// URL") }
        }
    }

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-bench-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = PlatformConfiguration(dataFolder: folder)
        configuration.adminPassword = "bench-\(UUID().uuidString)"
        configuration.passwordCost = 10
        configuration.workers = workerProcesses > 0 ? 0 : workers
        guard let database else { return try await bench(configuration) }
        let scratch = try await ScratchDatabase.create(on: database, prefix: "cloister_bench")
        configuration.database = .postgres(url: scratch)
        do {
            try await bench(configuration)
        } catch {
            try? await ScratchDatabase.drop(scratch, on: database)
            throw error
        }
        try await ScratchDatabase.drop(scratch, on: database)
    }

    private func bench(_ configuration: PlatformConfiguration) async throws {
        var logger = Logger(label: "cloister.bench")
        logger.logLevel = .warning
        let platform = try await Platform.open(configuration, logger: logger)
        _ = try await platform.bootstrapAdmin()
        let processes = try startWorkers(configuration)
        defer {
            for process in processes where process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }
        let ports = AsyncStream<Int>.makeStream()
        let application = try APIServer.application(
            platform: platform, configuration: .init(port: 0), logger: logger, onRunning: { ports.continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { running in
            running.addTask { try await group.run() }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            do {
                try await measure(url: "http://127.0.0.1:\(port)", adminPassword: configuration.adminPassword!, database: platform.database.kind)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await running.waitForAll()
        }
        try await platform.shutdown()
    }

    /// Starts the --worker-processes `cloister worker` processes against the server's database.
    private func startWorkers(_ configuration: PlatformConfiguration) throws -> [Foundation.Process] {
        var processes: [Foundation.Process] = []
        for index in 0..<workerProcesses {
            let process = Foundation.Process()
            process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
            var arguments = ["worker", "--workers", "\(workers)", "--password-cost", "4"]
            switch configuration.database {
            case .postgres(let url):
                arguments += [
                    "--database", url, "--data", configuration.dataFolder + "/worker-\(index)", "--outputs", configuration.outputFolder,
                    "--kek-file", configuration.dataFolder + "/secrets/kek.key",
                ]
            case .sqlite:
                arguments += ["--data", configuration.dataFolder]
            }
            process.arguments = arguments
            process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
            try process.run()
            processes.append(process)
        }
        return processes
    }

    private func measure(url: String, adminPassword: String, database: DatabaseKind) async throws {
        let base = CloisterClient(baseURL: url)
        let admin = base.with(token: try await base.login(id: "admin", password: adminPassword).token)
        _ = try await admin.registerUser(RegisterUserRequest(id: "fo", password: "bench-password", role: "FunctionOwner"))
        let owner = base.with(token: try await base.login(id: "fo", password: "bench-password").token)
        _ = try await admin.registerUser(RegisterUserRequest(id: "mgr", password: "bench-password", role: "DataOwnerManager-b"))
        let user = base.with(token: try await base.login(id: "mgr", password: "bench-password").token)
        let registered: RegisterFunctionRequest
        let executor: String
        switch function {
        case .builtinEcho:
            registered = RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", public: false,
                arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hello")], userAllowlist: ["mgr"])
            executor = "builtin"
        case .pythonScientific:
            let source = """
                import numpy as np
                import pandas as pd

                def entrypoint(argv):
                    return str(int(pd.DataFrame({"a": np.arange(10)})["a"].sum()))
                """
            registered = RegisterFunctionRequest(
                name: "pandas-sum", executorType: "python", payload: Data(source.utf8).base64EncodedString(), public: false,
                userAllowlist: ["mgr"])
            executor = Executor.cpythonSci.rawValue
        }
        let function = try await owner.registerFunction(registered)
        let pause = pauseMilliseconds ?? (self.function == .pythonScientific ? 3000 : 0)

        let polls = PollCount()
        /// One task end to end; the time each step took, in seconds, in the order of `TaskStep.allCases`.
        @Sendable func oneTask() async throws -> [Double] {
            var clock = StepClock()
            let task = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: executor))
            clock.mark()
            _ = try await owner.approveTask(task.id)
            clock.mark()
            _ = try await user.approveTask(task.id)
            clock.mark()
            var state = try await user.invokeTask(task.id).state
            clock.mark()
            while !state.isFinal {
                state = try await user.getTask(task.id, waitingUpTo: .seconds(30), whileStateIs: .staged, .running).state
                polls.count.add(1, ordering: .relaxed)
            }
            guard state == .finished else { throw ValidationError("task \(task.id) ended \(state.rawValue)") }
            clock.mark()
            return clock.steps
        }

        for _ in 0..<10 { _ = try await oneTask() }
        var steps: [[Double]] = []
        for index in 1...tasks {
            if index % 50 == 0 || pause > 0 { FileHandle.standardError.write(Data("bench-platform: latency \(index)/\(tasks)\n".utf8)) }
            if pause > 0 { try await Task.sleep(for: .milliseconds(pause)) }
            steps.append(try await oneTask())
        }
        var latencies = steps.map { $0.reduce(0, +) }
        // The floor under every step: an unauthenticated GET answered without the database.
        var floor: [Double] = []
        for _ in 0..<200 {
            var clock = StepClock()
            _ = try await base.health()
            clock.mark()
            floor.append(clock.steps[0])
        }
        latencies.sort()
        func percentile(_ p: Double, of values: [Double]) -> Double {
            let sorted = values.sorted()
            return sorted[min(sorted.count - 1, Int((p / 100 * Double(sorted.count)).rounded(.up)) - 1)]
        }
        func percentile(_ p: Double) -> Double { percentile(p, of: latencies) }
        func breakdown(_ steps: [[Double]]) -> String {
            TaskStep.allCases.enumerated().map { index, step in
                "\(step.rawValue) \(ms(percentile(50, of: steps.map { $0[index] })))"
            }.joined(separator: ", ")
        }
        func ms(_ seconds: Double) -> String { String(format: "%.2f ms", seconds * 1000) }

        FileHandle.standardError.write(Data("bench-platform: throughput with \(clients) clients × \(tasksPerClient) tasks\n".utf8))
        let latencyPolls = polls.count.exchange(0, ordering: .relaxed)
        let start = ContinuousClock.now
        let loadedSteps = try await withThrowingTaskGroup(of: [[Double]].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var steps: [[Double]] = []
                    for _ in 0..<tasksPerClient { steps.append(try await oneTask()) }
                    return steps
                }
            }
            return try await group.reduce(into: []) { $0 += $1 }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let total = clients * tasksPerClient
        print("""
            ## Platform: \(self.function.rawValue) task end to end over HTTP

            Each task: create → approve (function owner) → approve (creator) → invoke → follow it until Finished \
            (`GET /v1/tasks/{id}?wait=30&state=Staged,Running`: one long poll while it is queued and runs)\(pause > 0 ? "; latency tasks \(pause) ms apart" : ""); \(database == .sqlite ? "SQLite in a temporary folder" : "PostgreSQL"), \
            \(workerProcesses > 0 ? "\(workerProcesses) worker process(es) × \(workers) slot(s)" : "\(workers) in-process workers"), one loopback server.

            | measure | value |
            |---|---|
            | latency p50 (\(tasks) tasks, one at a time) | \(ms(percentile(50))) |
            | latency p99 | \(ms(percentile(99))) |
            | latency min / max | \(ms(latencies.first!)) / \(ms(latencies.last!)) |
            | p50 of each step, one at a time | \(breakdown(steps)) |
            | p50 of `GET /v1/health` (the HTTP floor) | \(ms(percentile(50, of: floor))) |
            | throughput (\(clients) clients × \(tasksPerClient) tasks) | \(String(format: "%.1f", Double(total) / seconds)) tasks/s (\(total) tasks in \(String(format: "%.2f", seconds)) s) |
            | p50 of each step, \(clients) clients at once | \(breakdown(loadedSteps)) |
            | long polls per task (latency / throughput) | \(String(format: "%.1f", Double(latencyPolls) / Double(tasks + 10))) / \(String(format: "%.1f", Double(polls.count.load(ordering: .relaxed)) / Double(total))) |
            """)
    }
}

/// The steps of one task, as the bench times them.
private enum TaskStep: String, CaseIterable {
    case create, approveByOwner = "approve (owner)", approveByCreator = "approve (creator)", invoke, wait = "run and wait"
}

/// Splits a run into steps: each `mark()` ends one.
private struct StepClock {
    private var last = ContinuousClock.now
    private(set) var steps: [Double] = []

    mutating func mark() {
        let now = ContinuousClock.now
        let elapsed = now - last
        steps.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        last = now
    }
}

/// How many times the tasks of a run were asked for (each a long poll: a GET of the task with `wait`).
private final class PollCount: Sendable {
    let count = Atomic<Int>(0)
}
