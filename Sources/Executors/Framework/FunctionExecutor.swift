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
}
