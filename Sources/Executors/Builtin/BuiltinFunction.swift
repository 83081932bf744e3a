/// One builtin function: its name (as Teaclave's) and how it runs.
///
/// Every builtin validates its arguments first (a missing or mistyped argument names itself),
/// reads each input to its end (so that an aes-gcm input is authenticated before any result
/// counts), closes its outputs, and never echoes input data in an error: errors name the input,
/// the line and the column.
protocol BuiltinFunction {
    /// The name a function is registered with, e.g. "builtin-echo".
    static var name: String { get }
    /// What it reads: checked when a function is registered, long before a task runs it.
    static var signature: BuiltinSignature { get }
    /// Runs the function; the result string of the task.
    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String
}

/// The arguments a builtin reads (every one required: it has no defaults of its own) and the
/// files it opens, so that a function registered without one of them is refused at once rather
/// than failing after every party approved its task. Files are nil when their names depend on an
/// argument (`builtin-private-join-and-compute`: `input_data0` … `input_data<num_user - 1>`).
public struct BuiltinSignature: Sendable, Equatable {
    public let arguments: [String]
    public let inputs: [String]?
    public let outputs: [String]?
}
