import LibOS

/// How the sandboxes of WebAssembly and Python functions are made, beside their limits: which
/// instruction engine runs the function and where compiled programs are kept between runs.
public struct SandboxConfiguration: Sendable, Hashable {
    /// The engine (nil: `CLOISTER_ENGINE`, else wasmtime when its library loads, else WasmKit).
    public var engine: EngineKind?
    /// The host-private folder of compiled programs (nil: ``LibOS`` chooses, see `docs/libos.md`).
    public var cacheDirectory: String?

    public init(engine: EngineKind? = nil, cacheDirectory: String? = nil) {
        self.engine = engine
        self.cacheDirectory = cacheDirectory
    }

    /// The defaults.
    public static let `default` = SandboxConfiguration()
}
