/// Runs one staged function: its name, arguments, payload and files go in; a result comes out.
public protocol FunctionExecutor: Sendable {
    /// Runs the function `name` with `arguments` over the files of `runtime`.
    ///
    /// - Returns: the function's result string.
    /// - Throws: a typed error whose description says why the function failed.
    func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String
}
