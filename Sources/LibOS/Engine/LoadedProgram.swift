import WasmKit

/// A guest program parsed, checked against the syscalls the kernel provides, ready to instantiate.
public struct LoadedProgram: Sendable {
    public let module: Module
    /// The guest path it was loaded from.
    public let path: String
}
