/// One builtin function: its name (as Teaclave's) and how it runs.
///
/// Every builtin validates its arguments first (a missing or mistyped argument names itself),
/// reads each input to its end (so that an aes-gcm input is authenticated before any result
/// counts), closes its outputs, and never echoes input data in an error: errors name the input,
/// the line and the column.
protocol BuiltinFunction {
    /// The name a function is registered with, e.g. "builtin-echo".
    static var name: String { get }
    /// Runs the function; the result string of the task.
    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String
}
