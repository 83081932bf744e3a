import LibOS

/// Runs WebAssembly payloads (`wasm` / `wasmkit`): every invocation is a LibOS process in a
/// sandbox of its own (``FunctionSandbox``) under the run's limits, with no network.
///
/// Two conventions, chosen by what the module exports:
/// - **entry point**: an export `entrypoint(argc, argv) -> i32`. The arguments
///   (`FunctionArguments.argv`) are its argv; the files are reached through the `env` imports
///   `cloister_open_input`, `cloister_create_output`, `cloister_read_file`,
///   `cloister_write_file`, `cloister_close_file` (Teaclave's `teaclave_*` names are accepted
///   too, so its C and Rust payloads run unchanged). The result is the return value, in decimal.
/// - **WASI command**: an export `_start`. argv is the function's name then the arguments; the
///   files are `/inputs/<name>` and `/outputs/<name>`. The result is its standard output; a
///   non-zero exit fails the run with the last line of its standard error.
///
/// Standard error (and, for the entry-point convention, standard output) becomes the run's log.
/// A trap, the deadline, the CPU-time limit or running out of memory fails the run, and the
/// error says which.
public struct WebAssemblyExecutor: FunctionExecutor {
    /// The export of the entry-point convention.
    public static let entryPointName = "entrypoint"

    /// How its sandboxes are made (the engine, the cache of compiled programs).
    public let configuration: SandboxConfiguration

    public init(configuration: SandboxConfiguration = .default) {
        self.configuration = configuration
    }

    public func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String {
        guard payload.count >= 8, payload.starts(with: [0x00, 0x61, 0x73, 0x6d]) else {
            throw ExecutorError.badPayload("the payload is not a WebAssembly module")
        }
        let convention = try Self.convention(of: payload)
        let sandbox = try FunctionSandbox(
            limits: runtime.limits, inputBytes: FunctionSandbox.inputBytes(of: runtime), configuration: configuration, network: runtime.network)
        let path = "/bin/function.wasm"
        try sandbox.writeFile(path, payload)
        try sandbox.stageFiles(of: runtime)
        let outcome: FunctionSandbox.Outcome
        switch convention {
        case .command, .reactor:
            outcome = try sandbox.run(path: path, arguments: [name] + arguments.argv, entry: .command, runtime: runtime)
            runtime.appendLog(outcome.standardError)
        case .function:
            outcome = try sandbox.run(path: path, arguments: arguments.argv, entry: .function(Self.entryPointName), runtime: runtime)
            runtime.appendLog(outcome.standardOutput)
            runtime.appendLog(outcome.standardError)
        }
        let errorText = String(decoding: outcome.standardError, as: UTF8.self)
        if let failure = FunctionSandbox.failure(
            of: outcome.status, timedOut: outcome.timedOut, canceled: outcome.canceled, limits: runtime.limits, errorText: errorText) {
            throw sandbox.explaining(failure)
        }
        sandbox.noteNetworkRefusals(in: runtime)
        try sandbox.collectOutputs(into: runtime)
        switch convention {
        case .command, .reactor:
            return String(decoding: outcome.standardOutput, as: UTF8.self)
        case .function:
            return outcome.status.returnValue.map(String.init) ?? ""
        }
    }

    /// A module that parses, imports only what the LibOS provides, and follows one of the two
    /// conventions.
    public func validate(name: String, payload: [UInt8], limits: FunctionLimits) throws(ExecutorError) {
        guard payload.count >= 8, payload.starts(with: [0x00, 0x61, 0x73, 0x6d]) else {
            throw .badPayload("the payload is not a WebAssembly module")
        }
        _ = try Self.convention(of: payload)
    }

    /// Which convention a module follows: `entrypoint` wins over `_start` when it has both.
    static func convention(of payload: [UInt8]) throws(ExecutorError) -> ProgramEntry {
        let exports: [String]
        do {
            exports = try ModuleExports.functionNames(in: payload)
        } catch {
            throw .badPayload(error.reason)
        }
        if exports.contains(entryPointName) { return .function(entryPointName) }
        if exports.contains("_start") { return .command }
        throw .badPayload("the module exports neither \(entryPointName)(argc, argv) nor _start")
    }
}
