/// The `env` imports of a function's entry-point convention: its declared files by name, as
/// Teaclave's WebAssembly executor gives them, so Teaclave's C and Rust payloads run unchanged.
///
/// An input `name` is the file `/inputs/<name>` and an output the file `/outputs/<name>`; the
/// executor stages both folders before the run (declared outputs exist, empty, so a name that was
/// not declared cannot be created). Every function is available as `cloister_<call>` and as its
/// Teaclave alias `teaclave_<call>`:
///
/// | call | C signature | returns |
/// |---|---|---|
/// | `open_input` | `int (const char *name)` | a descriptor |
/// | `create_output` | `int (const char *name)` | a descriptor |
/// | `read_file` | `int (int fd, void *buffer, int size)` | bytes read, 0 at the end |
/// | `write_file` | `int (int fd, const void *buffer, int size)` | bytes written |
/// | `close_file` | `int (int fd)` | 0 |
///
/// Any failure answers -1 (Teaclave's convention); the errno is in the kernel's trace log.
public enum FunctionFileModule {
    public static let moduleName = "env"
    /// Where a function's inputs are, by name.
    public static let inputsDirectory = "/inputs"
    /// Where a function's outputs are, by name.
    public static let outputsDirectory = "/outputs"

    static let syscalls: [String: Syscall] = {
        var table: [String: Syscall] = [:]
        func add(_ call: String, _ parameters: [SyscallParameter], _ body: @escaping @Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Int32) {
            let syscall = Syscall(name: "cloister_" + call, parameters: parameters, behavior: .minusOneOnError(body))
            table["cloister_" + call] = syscall
            table["teaclave_" + call] = syscall
        }
        add("open_input", [.i32]) { c, a throws(Errno) in try open(c, nameAt: a.u32(0), in: inputsDirectory, forWriting: false) }
        add("create_output", [.i32]) { c, a throws(Errno) in try open(c, nameAt: a.u32(0), in: outputsDirectory, forWriting: true) }
        add("read_file", [.i32, .i32, .i32], readFile)
        add("write_file", [.i32, .i32, .i32], writeFile)
        add("close_file", [.i32]) { c, a throws(Errno) in
            try c.files.close(a.u32(0))
            return 0
        }
        return table
    }()

    /// Opens the declared file called by the guest string at `address` inside `directory`.
    ///
    /// It resolves as the guest's own `open()` of `<directory>/<name>` would: beneath the
    /// caller's preopened descriptor that holds it, with that descriptor's rights (a process that
    /// dropped them, or a child it gave fewer, gets no more here). An input opens read-only; an
    /// output, which must exist, write-only and truncated.
    private static func open(_ c: SyscallContext, nameAt address: UInt32, in directory: String, forWriting: Bool) throws(Errno) -> Int32 {
        let name = try c.memory.readCString(address, limit: 255)
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/") else {
            throw Errno.inval.with(reason: "\"\(name)\" is not a file name")
        }
        let path = directory + "/" + name
        guard let (base, relative) = c.files.preopen(containing: path) else {
            throw Errno.notcapable.with(reason: "no descriptor of the process holds \(path)")
        }
        var rights = Rights.regularFile
        rights.subtract(forWriting ? [.fdRead, .fdReaddir] : [.fdWrite, .fdAllocate, .fdFilestatSetSize])
        var entry = try WASIPreview1.open(
            relative, beneath: base, in: c.files, walker: c.walker, flags: forWriting ? .truncate : [], base: rights,
            inheriting: [], fdFlags: [], followFinal: false)
        guard entry.description.fileType == .regularFile else {
            entry.file.release()
            throw Errno.inval.with(reason: "\(path) is not a file")
        }
        entry.preopenPath = nil
        do {
            return Int32(try c.files.insert(entry))
        } catch {
            entry.file.release()
            throw error
        }
    }

    private static func readFile(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) -> Int32 {
        try withGuestBuffer(c, a, forWriting: false) { (description, buffer) throws(Errno) in try description.read(into: buffer) }
    }

    private static func writeFile(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) -> Int32 {
        try withGuestBuffer(c, a, forWriting: true) { (description, buffer) throws(Errno) in
            try description.writeFully(UnsafeRawBufferPointer(buffer))
        }
    }

    /// The description of descriptor argument 0 (open for reading or writing) and the guest
    /// buffer of arguments 1 (address) and 2 (size, `EINVAL` when negative).
    private static func withGuestBuffer(
        _ c: SyscallContext, _ a: SyscallArguments, forWriting: Bool,
        _ body: (any FileDescription, UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    ) throws(Errno) -> Int32 {
        let size = Int32(bitPattern: a.u32(2))
        guard size >= 0 else { throw .inval }
        let description = try c.files.get(a.u32(0), forWriting: forWriting).description
        return try c.memory.withBytes(at: a.u32(1), count: UInt32(size)) { (buffer) throws(Errno) in
            Int32(try body(description, buffer))
        }
    }
}
