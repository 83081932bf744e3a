/// Runs one staged function: its name, arguments, payload and files go in; a result comes out.
///
/// An executor is chosen by the pair (`ExecutorType`, `Executor`) in an `ExecutorRegistry`.
public protocol FunctionExecutor: Sendable {
    /// Runs the function `name` with `arguments` over the files of `runtime`.
    ///
    /// - Parameters:
    ///   - name: the function's name (for the builtin executor, which function to run).
    ///   - arguments: the task's function arguments.
    ///   - payload: the function's code (a WebAssembly module, a Python script); empty for builtins.
    ///   - runtime: the staged inputs and outputs.
    /// - Returns: the function's result string.
    /// - Throws: a typed error whose description says why the function failed.
    func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String

    /// Checks the payload of a function when it is registered, long before a task runs it: a
    /// module that does not parse or imports what Cloister does not provide, a script with a
    /// syntax error. Throws why it can never run; `limits` bound any work the check does.
    func validate(name: String, payload: [UInt8], limits: FunctionLimits) throws(ExecutorError)
}

extension FunctionExecutor {
    /// Nothing to check by default.
    public func validate(name: String, payload: [UInt8], limits: FunctionLimits) throws(ExecutorError) {}
}
