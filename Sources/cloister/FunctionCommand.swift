import ArgumentParser
import Executors
import Foundation
import LibOS

/// `cloister function`: register and manage functions on a platform, or run one locally.
struct FunctionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "function",
        abstract: "Register and manage functions on a platform, or develop and debug one locally (run).",
        subcommands: [
            FunctionRunCommand.self, FunctionRegisterCommand.self, FunctionListCommand.self, FunctionGetCommand.self,
            FunctionUpdateCommand.self, FunctionDeleteCommand.self, FunctionDisableCommand.self, FunctionUsageCommand.self,
        ]
    )
}

/// `cloister function run`: runs a payload through any executor on local plaintext files.
struct FunctionRunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a function through an executor on local plaintext files.",
        discussion: """
            The way to develop and debug a function without a server: the same executors, \
            sandbox and limits as a task, over plaintext files on this machine. The function's \
            log (its standard output and error; for a WASI command only its standard error) goes \
            to standard error, the result to standard output. On failure the reason is printed \
            after the log and the exit code is 1.

            Examples:
              cloister function run --executor-type builtin --executor builtin --name builtin-echo --arg message=hi
              cloister function run --executor-type python --executor cpython --payload train.py \\
                --arg alg_alpha=0.3 --arg alg_iters=100 --input training_data=train.csv --output model_file=model.txt
              cloister function run --executor-type wasm --executor wasmkit --payload psi.wasm \\
                --input input_data1=a.txt --input input_data2=b.txt \\
                --output output_result1=r1.txt --output output_result2=r2.txt
            """
    )

    @Option(name: .customLong("executor-type"), help: "What the function is: builtin, python or wasm.")
    var executorType: String

    @Option(name: .long, help: "What runs it: builtin, cpython or wasmkit.")
    var executor: String

    @Option(name: .long, help: "The function's name (builtin: which function; others: argv[0] of a WASI command).")
    var name: String?

    @Option(name: .long, help: "The payload file: Python source or a WebAssembly module (none for builtins).")
    var payload: String?

    @Option(name: .customLong("arg"), help: ArgumentHelp("An argument NAME=VALUE; VALUE is taken as JSON when it parses (5, true, \"5\"), else as a string.", valueName: "name=value"))
    var arguments: [String] = []

    @Option(name: .customLong("input"), help: ArgumentHelp("A declared input NAME=PATH (a plaintext file).", valueName: "name=path"))
    var inputs: [String] = []

    @Option(name: .customLong("output"), help: ArgumentHelp("A declared output NAME=PATH, written when the function succeeds.", valueName: "name=path"))
    var outputs: [String] = []

    @Option(name: .long, help: "The deadline in seconds (default 60).")
    var timeout: Double?

    @Option(name: .long, help: "The most memory the function may use, such as 256MB (default 256MB).")
    var memory: String?

    @Option(name: .long, help: "The engine a WebAssembly or Python function runs on: wasmtime (the default, when its library loads) or wasmkit.")
    var engine: String?

    func validate() throws {
        if let timeout, !(timeout > 0) {
            throw ValidationError("--timeout must be a number of seconds greater than 0, got \(timeout)")
        }
        if let memory, ByteSize.parse(memory) == nil {
            throw ValidationError("--memory must be a size such as 256MB, got \"\(memory)\"")
        }
        if let engine {
            do { _ = try EngineKind(parsing: engine) } catch { throw ValidationError("--engine: \(error.reason)") }
        }
    }

    func run() throws {
        let type: ExecutorType
        let kind: Executor
        let functionArguments: FunctionArguments
        let runtime: FunctionRuntime
        var payloadBytes: [UInt8] = []
        do {
            type = try ExecutorType(parsing: executorType)
            kind = try Executor(parsing: executor)
            functionArguments = try Self.parseArguments(arguments)
            var limits = FunctionLimits.standard
            if let timeout { limits.timeout = UInt64(timeout * 1e9) }
            if let memory, let bytes = ByteSize.parse(memory) { limits.memory = bytes }
            runtime = FunctionRuntime(
                plaintextInputs: try Self.pairs(inputs, option: "--input"),
                plaintextOutputs: try Self.pairs(outputs, option: "--output"), limits: limits)
            if let payload {
                guard let data = FileManager.default.contents(atPath: payload) else {
                    throw ValidationError("cannot read the payload \(payload)")
                }
                payloadBytes = [UInt8](data)
            } else if type != .builtin {
                throw ValidationError("a \(type.rawValue) function needs --payload FILE")
            }
            if type == .builtin, name == nil { throw ValidationError("a builtin function needs --name (such as builtin-echo)") }
        } catch let error as ExecutorError {
            throw ValidationError(error.description)
        }
        let interrupt = Self.cancelOnSignals(runtime)
        defer { withExtendedLifetime(interrupt) {} }
        do {
            // One run in this process: interpreters start on demand, none is started ahead.
            let sandbox = SandboxConfiguration(engine: engine.flatMap(EngineKind.init(rawValue:)))
            var registry = ExecutorRegistry.standard(sandbox: sandbox)
            let python = PythonRuntime(.cpython, directory: PythonRuntime.locate(.cpython), poolSize: 0, sandbox: sandbox)
            let scientific = PythonRuntime(.scientific, directory: PythonRuntime.locate(.scientific), poolSize: 0, sandbox: sandbox)
            registry.registerPython { python }
            registry.registerScientificPython { scientific }
            let executor = try registry.executor(type: type, executor: kind)
            let result = try executor.execute(name: name ?? "function", arguments: functionArguments, payload: payloadBytes, runtime: runtime)
            FileHandle.standardError.write(Data(runtime.log.utf8))
            print(result)
        } catch {
            FileHandle.standardError.write(Data(runtime.log.utf8))
            FileHandle.standardError.write(Data("cloister: function failed: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// `NAME=VALUE` options as arguments: VALUE as JSON when it parses, else as a string.
    static func parseArguments(_ options: [String]) throws -> FunctionArguments {
        var values: [String: JSONValue] = [:]
        for option in options {
            guard let equals = option.firstIndex(of: "="), equals != option.startIndex else {
                throw ValidationError("--arg must be NAME=VALUE, got \"\(option)\"")
            }
            let key = String(option[..<equals])
            let text = String(option[option.index(after: equals)...])
            values[key] = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .string(text)
        }
        return FunctionArguments(values)
    }

    /// `NAME=PATH` options as a dictionary; a repeated name is an error.
    static func pairs(_ options: [String], option: String) throws -> [String: String] {
        var result: [String: String] = [:]
        for entry in options {
            guard let equals = entry.firstIndex(of: "="), equals != entry.startIndex, entry.index(after: equals) != entry.endIndex else {
                throw ValidationError("\(option) must be NAME=PATH, got \"\(entry)\"")
            }
            let name = String(entry[..<equals])
            guard result[name] == nil else { throw ValidationError("\(option) \(name) is given twice") }
            result[name] = String(entry[entry.index(after: equals)...])
        }
        return result
    }

    /// Cancels the run on SIGINT or SIGTERM (the function's process is killed, the run fails).
    static func cancelOnSignals(_ runtime: FunctionRuntime) -> [any DispatchSourceSignal] {
        [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { runtime.cancel() }
            source.resume()
            return source
        }
    }
}
