import LibOS

/// Runs Python payloads (`python` / `cpython`) on CPython 3.11 for WASI, as a LibOS process in a
/// sandbox of its own, under the run's limits, with no network (``PythonRuntime``).
///
/// The payload is Python source that defines `entrypoint(argv)` and returns a string: the result.
/// argv is the function's arguments flattened (`FunctionArguments.argv`). The module `cloister`
/// gives `open_input(name)` and `create_output(name)` over the declared files (and Teaclave's
/// `teaclave_open(name, mode)`, also importable from `teaclave`). Standard output and standard
/// error become the run's log. An exception fails the run with the last line of its traceback;
/// the deadline, the CPU-time limit and running out of memory fail it and say which.
public struct PythonExecutor: FunctionExecutor {
    let runtime: PythonRuntime

    /// An executor on `runtime` (by default the one `make` fetched).
    public init(runtime: PythonRuntime = .shared) {
        self.runtime = runtime
    }

    public func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime function: FunctionRuntime) throws -> String {
        guard String(validating: payload, as: UTF8.self) != nil else {
            throw ExecutorError.badPayload("a Python payload must be UTF-8 source text")
        }
        let interpreter = try runtime.interpreter(limits: function.limits)
        defer { runtime.refill(limits: function.limits) }
        let sandbox = interpreter.sandbox
        try sandbox.writeFile(PythonDriver.payloadPath, payload)
        try sandbox.stageFiles(of: function)
        let outcome = try interpreter.serve(argv: arguments.argv, runtime: function)
        function.appendLog(outcome.log)
        let logText = String(decoding: outcome.log, as: UTF8.self)
        if outcome.status.exitCode == 1, let line = try? sandbox.readFile(PythonDriver.errorPath), !line.isEmpty {
            throw ExecutorError.exception(String(decoding: line, as: UTF8.self))
        }
        if let failure = FunctionSandbox.failure(
            of: outcome.status, timedOut: outcome.timedOut, canceled: function.isCanceled, limits: function.limits, errorText: logText) {
            throw failure
        }
        let result = try sandbox.readFile(PythonDriver.resultPath)
        try sandbox.collectOutputs(into: function)
        return String(decoding: result, as: UTF8.self)
    }
}
