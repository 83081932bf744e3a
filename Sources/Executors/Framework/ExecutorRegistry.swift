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

    /// A registry with every executor Cloister ships: the builtin functions, WebAssembly and
    /// Python (`registerBuiltins()`, `registerWebAssembly()`, `registerPython()`).
    public static var standard: ExecutorRegistry { standard(sandbox: .default) }

    /// The standard registry, its WebAssembly and Python sandboxes made as `sandbox` says.
    public static func standard(sandbox: SandboxConfiguration) -> ExecutorRegistry {
        var registry = ExecutorRegistry()
        registry.registerBuiltins()
        registry.registerWebAssembly(sandbox: sandbox)
        if sandbox == .default {
            registry.registerPython()
            registry.registerScientificPython()
        } else {
            let runtime = PythonRuntime(.cpython, directory: PythonRuntime.locate(.cpython), sandbox: sandbox)
            registry.registerPython { runtime }
            let scientific = PythonRuntime(.scientific, directory: PythonRuntime.locate(.scientific), sandbox: sandbox)
            registry.registerScientificPython { scientific }
        }
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

    /// Registers `WebAssemblyExecutor` for `wasm`/`wasmkit` (the executor's name; the engine
    /// that runs it is `sandbox.engine`).
    public mutating func registerWebAssembly(sandbox: SandboxConfiguration = .default) {
        register(.wasm, .wasmkit) { WebAssemblyExecutor(configuration: sandbox) }
    }

    /// Registers `PythonExecutor` for `python`/`cpython`, running on `runtime` (by default the
    /// runtime `make` fetched, found by `PythonRuntime.shared`).
    public mutating func registerPython(runtime: @escaping @Sendable () -> PythonRuntime = { PythonRuntime.shared }) {
        register(.python, .cpython) { PythonExecutor(runtime: runtime()) }
    }

    /// Registers `PythonExecutor` for `python`/`cpython-sci`, running on the scientific runtime
    /// (by default the one `make` fetched, `PythonRuntime.scientific`).
    public mutating func registerScientificPython(runtime: @escaping @Sendable () -> PythonRuntime = { PythonRuntime.scientific }) {
        register(.python, .cpythonSci) { PythonExecutor(runtime: runtime()) }
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
