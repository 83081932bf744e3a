/// What runs a function, as chosen with `create_task(executor:)`.
public enum Executor: String, CaseIterable, Sendable, Hashable {
    /// The builtin functions, in the worker's process.
    case builtin
    /// CPython 3.11 for WASI as a LibOS process.
    case cpython
    /// CPython 3.15 with numpy, pandas, scipy and scikit-learn as a LibOS process (on wasmtime).
    case cpythonSci = "cpython-sci"
    /// WasmKit running the module as a LibOS process.
    case wasmkit

    /// The kind of function it runs.
    public var runs: ExecutorType {
        switch self {
        case .builtin: return .builtin
        case .cpython, .cpythonSci: return .python
        case .wasmkit: return .wasm
        }
    }

    /// The executors that run functions of `type`.
    public static func running(_ type: ExecutorType) -> [Executor] { allCases.filter { $0.runs == type } }

    /// Parses an executor name; an unknown name is `ExecutorError.unknownExecutor`, which lists the valid ones.
    public init(parsing name: String) throws(ExecutorError) {
        guard let executor = Executor(rawValue: name) else { throw .unknownExecutor(name) }
        self = executor
    }
}
