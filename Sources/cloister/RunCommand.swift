import ArgumentParser
import Dispatch
import Foundation
import LibOS

/// `cloister run`: runs one guest program of an instance and exits with its status.
///
/// The work is ``GuestRun``'s; this type is its ArgumentParser face (help, errors, validation).
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
        do {
            _ = try GuestRun(instance: instance, timeout: timeout, engine: engine, path: path, arguments: arguments)
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() throws {
        // `validate()` has accepted these values.
        let run = try GuestRun(instance: instance, timeout: timeout, engine: engine, path: path, arguments: arguments)
        run.executeAndExit()
    }
}

/// One `cloister run`: the instance, the program and its arguments, checked; ``executeAndExit()``
/// runs it and ends this process with the guest's status.
struct GuestRun: Sendable {
    struct Invalid: Error {
        var message: String
    }

    let instance: String
    let timeout: Double?
    let engine: EngineKind?
    let path: String
    let arguments: [String]

    init(instance: String, timeout: Double?, engine: String?, path: String, arguments: [String]) throws(Invalid) {
        if let timeout, !(timeout > 0 && timeout < 1e9) {
            throw Invalid(message: "--timeout must be a number of seconds greater than 0, got \(timeout)")
        }
        do {
            self.engine = try engine.map { name throws(Errno) in try EngineKind(parsing: name) }
        } catch {
            throw Invalid(message: "--engine: \(error.reason)")
        }
        self.instance = instance
        self.timeout = timeout
        self.path = path
        self.arguments = arguments
    }

    /// Reads `cloister run`'s arguments (those after `run`) without ArgumentParser, or returns nil
    /// for anything but the plain shapes: `--instance DIR`, `--timeout SECONDS`, `--engine NAME`
    /// (each at most once, `--name value` or `--name=value`), then the program's path and its
    /// arguments passed through as they are. Help, unknown or repeated options, a value that
    /// looks like an option, and values ``init(instance:timeout:engine:path:arguments:)`` refuses
    /// all return nil, and ArgumentParser then reads the same arguments and says what is wrong.
    ///
    /// Why: `cloister run` is a whole process per guest, and ArgumentParser's reflection (its
    /// command tree, its completion-script check) costs about 2 ms of each start on this machine
    /// (docs/PERFORMANCE.md, "Engines"); CommandLineTests runs every shape through the binary.
    static func quick(_ arguments: ArraySlice<String>) -> GuestRun? {
        var instance: String?, timeout: String?, engine: String?
        var rest = arguments
        while let token = rest.first, token.hasPrefix("-") {
            rest = rest.dropFirst()
            let name: Substring, value: String
            if let equals = token.firstIndex(of: "=") {
                name = token[..<equals]
                value = String(token[token.index(after: equals)...])
            } else {
                guard let next = rest.first, !next.hasPrefix("-") else { return nil }
                name = token[...]
                value = next
                rest = rest.dropFirst()
            }
            switch name {
            case "--instance" where instance == nil: instance = value
            case "--timeout" where timeout == nil: timeout = value
            case "--engine" where engine == nil: engine = value
            default: return nil
            }
        }
        guard let path = rest.first else { return nil }
        var seconds: Double?
        if let timeout {
            guard let parsed = Double(timeout) else { return nil }
            seconds = parsed
        }
        return try? GuestRun(instance: instance ?? ".", timeout: seconds, engine: engine, path: path, arguments: Array(rest.dropFirst()))
    }

    /// Starts the instance, runs the program, ends the instance, and exits with the guest's status
    /// (127 with a one-line reason when the program cannot be created or started).
    func executeAndExit() -> Never {
        switch execute() {
        case .success(let status):
            if let reason = status.reason, !reason.hasPrefix("killed by") {
                FileHandle.standardError.write(Data("cloister: \(path): \(reason)\n".utf8))
            }
            exit(status.shellExitCode)
        case .failure(let error):
            FileHandle.standardError.write(Data("cloister: \(error.reason.isEmpty ? error.name : error.reason)\n".utf8))
            exit(127)
        }
    }

    private func execute() -> Result<WaitStatus, Errno> {
        Result { () throws(Errno) -> WaitStatus in
            try LibOS.initialize(instance: instance, engine: engine)
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
