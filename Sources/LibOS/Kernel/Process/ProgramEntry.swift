/// Where a process starts in its program.
public enum ProgramEntry: Sendable, Equatable {
    /// A WASI command: `_start`, with the arguments as argv (argv[0] the program's name). The
    /// process ends when `_start` returns (exit 0) or calls `proc_exit`.
    case command
    /// The exported function of this name, of type `(argc: i32, argv: i32) -> i32` — the
    /// entry-point convention of function payloads. `_initialize` runs first when the program
    /// exports it (a WASI reactor); the arguments are placed as C strings in fresh guest memory,
    /// exactly as given (no program name); the process ends with exit 0 and the function's value
    /// as ``WaitStatus/returnValue``, or as a command would (`proc_exit`, a trap, a signal).
    case function(String)

    /// The export the program must have.
    var exportName: String {
        switch self {
        case .command: return "_start"
        case .function(let name): return name
        }
    }
}
