/// The `cloister` import module: what Cloister adds to WASI preview1 for its guests —
/// processes (spawn, wait, kill, ids), pipes and scheduling.
///
/// Declared for guests in `cloister.h` (the guest SDK). Every call answers a WASI errno (0 on
/// success) and returns its results through guest pointers, each bounds-checked (`EFAULT`).
public enum CloisterModule {
    public static let moduleName = "cloister"

    /// Every syscall of the module, by name.
    public static let syscalls: [String: Syscall] = {
        var table: [String: Syscall] = [:]
        func add(_ name: String, _ parameters: [SyscallParameter], _ body: @escaping @Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Void) {
            table[name] = Syscall(name: name, parameters: parameters, behavior: .errno(body))
        }
        // Processes
        add("spawn", Array(repeating: .i32, count: 9), spawn)
        add("wait", [.i32, .i32, .i32, .i32], wait)
        add("kill", [.i32, .i32], kill)
        add("getpid", [.i32], getpid)
        add("getppid", [.i32], getppid)
        add("gettid", [.i32], gettid)
        // Pipes
        add("pipe", [.i32], pipe)
        // Scheduling
        add("sched_getaffinity", [.i32, .i32, .i32, .i32], schedGetaffinity)
        add("sched_setaffinity", [.i32, .i32, .i32], schedSetaffinity)
        add("getcpu", [.i32, .i32], getcpu)
        add("sched_yield", [], { c, a throws(Errno) in try WASIPreview1.schedYield(c, a) })
        return table
    }()
}
