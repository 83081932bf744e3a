import ArgumentParser
import Dispatch
import Foundation
import LibOS

/// `cloister run`: runs one guest program of an instance and exits with its status.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a guest program of an instance.",
        discussion: """
            The exit code is the guest's exit code, 128+N when signal N ended it, or 127 with a \
            one-line reason when the program cannot be created or started. SIGINT and SIGTERM \
            sent to this command are passed on to the guest. The guest's environment is \
            env.default of Cloister.json plus the names of this command's environment that \
            env.untrusted lists. --timeout lowers the instance's wall_time_limit for this run; a \
            guest over it is killed (exit 137) with the reason on standard error. --engine \
            chooses the instruction engine for this run (default: the instance's "engine", else \
            wasmtime when its library loads, else WasmKit with a notice).
            """
    )

    @Option(name: .long, help: "The instance folder (holding Cloister.json).")
    var instance: String = "."

    @Option(name: .long, help: ArgumentHelp("Kill the guest after this many seconds of wall-clock time.", valueName: "seconds"))
    var timeout: Double?

    @Option(name: .long, help: "The instruction engine: wasmtime (JIT, the default) or wasmkit (the reference interpreter).")
    var engine: String?

    @Argument(help: "The guest path of the program, such as /bin/hello.wasm.")
    var path: String

    @Argument(parsing: .captureForPassthrough, help: "Arguments for the program.")
    var arguments: [String] = []

    func validate() throws {
        if let timeout, !(timeout > 0 && timeout < 1e9) {
            throw ValidationError("--timeout must be a number of seconds greater than 0, got \(timeout)")
        }
        if let engine {
            do { _ = try EngineKind(parsing: engine) } catch { throw ValidationError("--engine: \(error.reason)") }
        }
    }

    func run() throws {
        let status: WaitStatus
        switch start() {
        case .success(let result):
            status = result
        case .failure(let error):
            FileHandle.standardError.write(Data("cloister: \(error.reason.isEmpty ? error.name : error.reason)\n".utf8))
            throw ExitCode(127)
        }
        if let reason = status.reason, !reason.hasPrefix("killed by") {
            FileHandle.standardError.write(Data("cloister: \(path): \(reason)\n".utf8))
        }
        throw ExitCode(status.shellExitCode)
    }

    /// Starts the instance, runs the program, and ends the instance.
    private func start() -> Result<WaitStatus, Errno> {
        Result { () throws(Errno) -> WaitStatus in
            try LibOS.initialize(instance: instance, engine: try engine.map { name throws(Errno) in try EngineKind(parsing: name) })
            defer { try? LibOS.destroy() }
            let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
            let limits = ProcessLimits.Overrides(wallTime: timeout.map { UInt64($0 * 1e9) })
            let pid = try LibOS.createProcess(path: path, argv: [path] + arguments, env: environment, limits: limits)
            let forwarding = forwardSignals(to: pid)
            defer { forwarding.forEach { $0.cancel() } }
            return try LibOS.exec(pid: pid)
        }
    }

    /// Passes SIGINT and SIGTERM received by this command on to the guest.
    private func forwardSignals(to pid: Int32) -> [DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { try? LibOS.forward(signal: number, to: pid) }
            source.resume()
            return source
        }
    }
}
