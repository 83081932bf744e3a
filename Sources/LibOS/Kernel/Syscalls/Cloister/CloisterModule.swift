/// The `cloister` import module: what Cloister adds to WASI preview1 for its guests —
/// processes (spawn, wait, kill, ids), pipes, sockets and scheduling.
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
        // Sockets
        add("socket", [.i32, .i32, .i32, .i32], socket)
        add("bind", [.i32, .i32], bind)
        add("listen", [.i32, .i32], listen)
        add("accept", [.i32, .i32, .i32, .i32], accept)
        add("connect", [.i32, .i32], connect)
        add("sendto", Array(repeating: .i32, count: 6), sendto)
        add("recvfrom", Array(repeating: .i32, count: 6), recvfrom)
        add("sendmsg", [.i32, .i32, .i32, .i32], sendmsg)
        add("recvmsg", [.i32, .i32, .i32, .i32], recvmsg)
        add("shutdown", [.i32, .i32], shutdown)
        add("getsockname", [.i32, .i32], getsockname)
        add("getpeername", [.i32, .i32], getpeername)
        add("getsockopt", [.i32, .i32, .i32, .i32], getsockopt)
        add("setsockopt", [.i32, .i32, .i32, .i32], setsockopt)
        add("resolve", Array(repeating: .i32, count: 6), resolve)
        // Scheduling
        add("sched_getaffinity", [.i32, .i32, .i32, .i32], schedGetaffinity)
        add("sched_setaffinity", [.i32, .i32, .i32], schedSetaffinity)
        add("getcpu", [.i32, .i32], getcpu)
        add("sched_yield", [], { c, a throws(Errno) in try WASIPreview1.schedYield(c, a) })
        return table
    }()
}
