/// What a function is, as registered with `register_function(executor_type:)`.
public enum ExecutorType: String, CaseIterable, Sendable, Hashable {
    /// A native Swift function of the platform.
    case builtin
    /// A Python script.
    case python
    /// A WebAssembly module.
    case wasm

    /// Parses a type name; an unknown name is `ExecutorError.unknownExecutorType`, which lists the valid ones.
    public init(parsing name: String) throws(ExecutorError) {
        guard let type = ExecutorType(rawValue: name) else { throw .unknownExecutorType(name) }
        self = type
    }
}
