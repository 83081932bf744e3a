/// What runs a function, as chosen with `create_task(executor:)`.
public enum Executor: String, CaseIterable, Sendable, Hashable {
    /// The builtin functions, in the worker's process.
    case builtin
    /// CPython for WASI as a LibOS process.
    case cpython
    /// WasmKit running the module as a LibOS process.
    case wasmkit

    /// Parses an executor name; an unknown name is `ExecutorError.unknownExecutor`, which lists the valid ones.
    public init(parsing name: String) throws(ExecutorError) {
        guard let executor = Executor(rawValue: name) else { throw .unknownExecutor(name) }
        self = executor
    }
}
