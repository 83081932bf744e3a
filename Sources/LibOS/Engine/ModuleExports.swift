import WasmParser

/// What a WebAssembly module offers to be called, for embedders that choose how to start it.
public enum ModuleExports {
    /// The names of the functions `bytes` exports; `ENOEXEC` when it is not a module, or imports
    /// what Cloister does not provide.
    public static func functionNames(in bytes: [UInt8]) throws(Errno) -> [String] {
        try ModuleFacts(bytes, path: "the module").exportedFunctions.keys.sorted()
    }
}
