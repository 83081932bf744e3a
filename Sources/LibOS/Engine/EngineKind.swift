/// The instruction engines a LibOS instance can run its guests on.
///
/// Both run the same kernel: the same syscall tables, VFS and limits (see ``GuestEngine``).
public enum EngineKind: String, Sendable, CaseIterable, CustomStringConvertible {
    /// wasmtime's Cranelift JIT (compiled ahead and cached), loaded at run time from its C API
    /// library: the fast default.
    case wasmtime
    /// WasmKit's pure-Swift interpreter: the reference engine, always available.
    case wasmkit

    /// Parses an engine name; an unknown one is an error that lists the valid ones.
    public init(parsing name: String) throws(Errno) {
        guard let kind = EngineKind(rawValue: name) else {
            throw Errno.inval.with(
                reason: "unknown engine \"\(name)\"; expected one of: \(EngineKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = kind
    }

    public var description: String { rawValue }
}
