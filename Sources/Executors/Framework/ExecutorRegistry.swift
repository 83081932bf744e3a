/// The worker's executors, by (`ExecutorType`, `Executor`) pair.
///
/// Each pair maps to a builder that makes a fresh executor for a task. A pair that nobody
/// registered fails with "function not available: <type>/<executor>".
///
/// ```swift
/// var registry = ExecutorRegistry.standard
/// registry.register(.wasm, .wasmkit) { WebAssemblyExecutor() }
/// let executor = try registry.executor(type: .wasm, executor: .wasmkit)
/// ```
public struct ExecutorRegistry: Sendable {
    /// Makes an executor for one task.
    public typealias Builder = @Sendable () -> any FunctionExecutor

    private struct Key: Hashable {
        let type: ExecutorType
        let executor: Executor
    }

    private var builders: [Key: Builder] = [:]

    /// An empty registry.
    public init() {}

    /// A registry with the builtin functions registered (`registerBuiltins()`).
    public static var standard: ExecutorRegistry {
        var registry = ExecutorRegistry()
        registry.registerBuiltins()
        return registry
    }

    /// Registers `builder` for the pair, replacing any builder registered for it before.
    public mutating func register(_ type: ExecutorType, _ executor: Executor, builder: @escaping Builder) {
        builders[Key(type: type, executor: executor)] = builder
    }

    /// Registers `BuiltinExecutor` for `builtin`/`builtin`.
    public mutating func registerBuiltins() {
        register(.builtin, .builtin) { BuiltinExecutor() }
    }

    /// Whether a builder is registered for the pair.
    public func isRegistered(type: ExecutorType, executor: Executor) -> Bool {
        builders[Key(type: type, executor: executor)] != nil
    }

    /// A fresh executor for the pair; `ExecutorError.functionNotAvailable` if none is registered.
    public func executor(type: ExecutorType, executor: Executor) throws(ExecutorError) -> any FunctionExecutor {
        guard let builder = builders[Key(type: type, executor: executor)] else {
            throw .functionNotAvailable(type, executor)
        }
        return builder()
    }
}
