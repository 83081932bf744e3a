import CCloisterABI
import LibOS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// The six functions of `cloister_pal_api.h`, the only symbols libcloister_pal exports (the
// linker version script `exports.map` hides everything else). Each checks the instance state,
// then its arguments, then calls the entry API (``LibOS``); ``ErrnoBoundary`` turns the outcome
// into 0 or -1 with errno. The Swift names differ from the C names so that the declarations
// imported from the header never clash with these definitions.

/// `int cloister_pal_get_version(void)`: the API version this library implements.
@_cdecl("cloister_pal_get_version")
public func palGetVersion() -> Int32 {
    Int32(CLOISTER_PAL_VERSION)
}

/// `int cloister_pal_init(const struct cloister_pal_attr *attr)`: starts the instance.
@_cdecl("cloister_pal_init")
public func palInit(_ attr: UnsafePointer<cloister_pal_attr>?) -> Int32 {
    ErrnoBoundary.call { () throws(Errno) in
        try PALInstance.requireUninitialized()
        let attr = try CArguments.required(attr, "attr").pointee
        let instance = try CArguments.string(attr.instance_dir, "attr->instance_dir")
        let level = attr.log_level == nil ? "off" : try CArguments.string(attr.log_level, "attr->log_level")
        try LibOS.initialize(instance: instance, logLevel: level)
    }
}

/// `int cloister_pal_create_process(struct cloister_pal_create_process_args *args)`: creates a
/// process and stores its pid.
@_cdecl("cloister_pal_create_process")
public func palCreateProcess(_ args: UnsafeMutablePointer<cloister_pal_create_process_args>?) -> Int32 {
    ErrnoBoundary.call { () throws(Errno) in
        try PALInstance.requireInitialized()
        let args = try CArguments.required(args, "args").pointee
        let path = try CArguments.string(args.path, "args->path")
        let pidOut = try CArguments.required(args.pid, "args->pid")
        let argv = try CArguments.strings(args.argv, "args->argv") ?? [path]
        let env = try CArguments.strings(args.env, "args->env") ?? []
        let stdio = try standardIO(args.stdio)
        pidOut.pointee = try LibOS.createProcess(path: path, argv: argv, env: env, stdio: stdio)
    }
}

/// `int cloister_pal_exec(struct cloister_pal_exec_args *args)`: runs a process until it ends
/// and stores its wait status.
@_cdecl("cloister_pal_exec")
public func palExec(_ args: UnsafeMutablePointer<cloister_pal_exec_args>?) -> Int32 {
    ErrnoBoundary.call { () throws(Errno) in
        try PALInstance.requireInitialized()
        let args = try CArguments.required(args, "args").pointee
        let exitValue = try CArguments.required(args.exit_value, "args->exit_value")
        exitValue.pointee = try LibOS.exec(pid: args.pid).rawValue
    }
}

/// `int cloister_pal_kill(int pid, int sig)`: sends SIGKILL or SIGTERM to a process, or to all.
@_cdecl("cloister_pal_kill")
public func palKill(_ pid: Int32, _ signal: Int32) -> Int32 {
    ErrnoBoundary.call { () throws(Errno) in
        try PALInstance.requireInitialized()
        try LibOS.kill(pid: pid, signal: signal)
    }
}

/// `int cloister_pal_destroy(void)`: kills every process and ends the instance.
@_cdecl("cloister_pal_destroy")
public func palDestroy() -> Int32 {
    ErrnoBoundary.call { () throws(Errno) in
        try LibOS.destroy()
    }
}

/// The standard streams named by `fds` (NULL: inherited); `EBADF` for a descriptor not open.
private func standardIO(_ fds: UnsafePointer<cloister_stdio_fds>?) throws(Errno) -> Kernel.StandardIO {
    guard let fds = fds?.pointee else { return .inherit }
    for (name, fd) in [("stdin_fd", fds.stdin_fd), ("stdout_fd", fds.stdout_fd), ("stderr_fd", fds.stderr_fd)] {
        guard fd >= 0, fcntl(fd, F_GETFD) != -1 else {
            throw Errno.badf.with(reason: "args->stdio->\(name) (\(fd)) is not an open descriptor")
        }
    }
    return Kernel.StandardIO(input: fds.stdin_fd, output: fds.stdout_fd, error: fds.stderr_fd)
}
