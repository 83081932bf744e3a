import WasmKit

/// What a WebAssembly module offers to be called, for embedders that choose how to start it.
public enum ModuleExports {
    /// The names of the functions `bytes` exports; `ENOEXEC` when it is not a module.
    public static func functionNames(in bytes: [UInt8]) throws(Errno) -> [String] {
        do {
            let module = try parseWasm(bytes: bytes, features: WasmKitRunner.features)
            return module.exports.compactMap { export in
                if case .function = export.descriptor { return export.name }
                return nil
            }
        } catch {
            throw Errno.noexec.with(reason: "not a valid WebAssembly module: \(error)")
        }
    }
}
