@testable import LibOS

/// What the fuzzer puts in one or more consecutive arguments of a syscall.
///
/// The kinds mirror what the arguments mean, so random calls get past the first checks (a real
/// path, a real iovec array, a plausible poll subscription) as often as they fail them (pointers
/// out of bounds, huge lengths and durations, bad descriptors).
enum ArgumentKind {
    /// A descriptor: stdio, a preopen, a recently opened one, or nonsense. (1 argument)
    case fd
    /// A pointer to `size` writable bytes, or not. (1)
    case out(UInt32)
    /// A guest path: pointer and length. (2)
    case path
    /// A NUL-terminated string. (1)
    case cString
    /// A buffer: pointer and length. (2)
    case buffer
    /// A buffer given as length, then pointer (cloister sched calls). (2)
    case lengthThenBuffer
    /// An iovec array: pointer and count. (2)
    case iovecs
    /// A 64-bit offset, size, duration or time. (1)
    case value64
    /// Rights bits. (1)
    case rights
    /// A flags word: mostly bits of `mask`, sometimes anything. (1)
    case flags(UInt32)
    /// A small enumerated value in `0..<bound`, sometimes anything. (1)
    case choice(UInt32)
    /// A clock id. (1)
    case clock
    /// A signal number. (1)
    case signal
    /// A process or thread id. (1)
    case pid
    /// `poll_oneoff`'s subscriptions, events and count. (3)
    case subscriptions
    /// A spawn's argv or envp: pointer to an array of string pointers, and the count. (2)
    case stringArray
    /// A spawn's file actions: pointer and count. (2)
    case fileActions
    /// Any 32-bit value. (1)
    case any32

    /// How many syscall arguments the kind fills.
    var arity: Int {
        switch self {
        case .path, .buffer, .lengthThenBuffer, .iovecs, .stringArray, .fileActions: return 2
        case .subscriptions: return 3
        default: return 1
        }
    }
}

/// The argument kinds of every syscall the kernel provides, by `module.name`. A test checks that
/// every syscall of ``SyscallTable`` has a recipe and that its arity matches the parameters.
enum SyscallRecipes {
    static let all: [String: [ArgumentKind]] = [
        // wasi_snapshot_preview1: arguments, environment, clocks, random
        "wasi_snapshot_preview1.args_get": [.out(64), .out(256)],
        "wasi_snapshot_preview1.args_sizes_get": [.out(4), .out(4)],
        "wasi_snapshot_preview1.environ_get": [.out(64), .out(256)],
        "wasi_snapshot_preview1.environ_sizes_get": [.out(4), .out(4)],
        "wasi_snapshot_preview1.clock_res_get": [.clock, .out(8)],
        "wasi_snapshot_preview1.clock_time_get": [.clock, .value64, .out(8)],
        "wasi_snapshot_preview1.random_get": [.buffer],
        // descriptors
        "wasi_snapshot_preview1.fd_advise": [.fd, .value64, .value64, .choice(7)],
        "wasi_snapshot_preview1.fd_allocate": [.fd, .value64, .value64],
        "wasi_snapshot_preview1.fd_close": [.fd],
        "wasi_snapshot_preview1.fd_datasync": [.fd],
        "wasi_snapshot_preview1.fd_fdstat_get": [.fd, .out(24)],
        "wasi_snapshot_preview1.fd_fdstat_set_flags": [.fd, .flags(0x1f)],
        "wasi_snapshot_preview1.fd_fdstat_set_rights": [.fd, .rights, .rights],
        "wasi_snapshot_preview1.fd_filestat_get": [.fd, .out(64)],
        "wasi_snapshot_preview1.fd_filestat_set_size": [.fd, .value64],
        "wasi_snapshot_preview1.fd_filestat_set_times": [.fd, .value64, .value64, .flags(0xf)],
        "wasi_snapshot_preview1.fd_pread": [.fd, .iovecs, .value64, .out(4)],
        "wasi_snapshot_preview1.fd_prestat_get": [.fd, .out(8)],
        "wasi_snapshot_preview1.fd_prestat_dir_name": [.fd, .buffer],
        "wasi_snapshot_preview1.fd_pwrite": [.fd, .iovecs, .value64, .out(4)],
        "wasi_snapshot_preview1.fd_read": [.fd, .iovecs, .out(4)],
        "wasi_snapshot_preview1.fd_readdir": [.fd, .buffer, .value64, .out(4)],
        "wasi_snapshot_preview1.fd_renumber": [.fd, .fd],
        "wasi_snapshot_preview1.fd_seek": [.fd, .value64, .choice(3), .out(8)],
        "wasi_snapshot_preview1.fd_sync": [.fd],
        "wasi_snapshot_preview1.fd_tell": [.fd, .out(8)],
        "wasi_snapshot_preview1.fd_write": [.fd, .iovecs, .out(4)],
        // paths
        "wasi_snapshot_preview1.path_create_directory": [.fd, .path],
        "wasi_snapshot_preview1.path_filestat_get": [.fd, .flags(1), .path, .out(64)],
        "wasi_snapshot_preview1.path_filestat_set_times": [.fd, .flags(1), .path, .value64, .value64, .flags(0xf)],
        "wasi_snapshot_preview1.path_link": [.fd, .flags(1), .path, .fd, .path],
        "wasi_snapshot_preview1.path_open": [.fd, .flags(1), .path, .flags(0xf), .rights, .rights, .flags(0x1f), .out(4)],
        "wasi_snapshot_preview1.path_readlink": [.fd, .path, .buffer, .out(4)],
        "wasi_snapshot_preview1.path_remove_directory": [.fd, .path],
        "wasi_snapshot_preview1.path_rename": [.fd, .path, .fd, .path],
        "wasi_snapshot_preview1.path_symlink": [.path, .fd, .path],
        "wasi_snapshot_preview1.path_unlink_file": [.fd, .path],
        // polling, processes, scheduling, sockets
        "wasi_snapshot_preview1.poll_oneoff": [.subscriptions, .out(4)],
        "wasi_snapshot_preview1.proc_exit": [.any32],
        "wasi_snapshot_preview1.proc_raise": [.signal],
        "wasi_snapshot_preview1.sched_yield": [],
        "wasi_snapshot_preview1.sock_accept": [.fd, .flags(4), .out(4)],
        "wasi_snapshot_preview1.sock_recv": [.fd, .iovecs, .flags(3), .out(4), .out(2)],
        "wasi_snapshot_preview1.sock_send": [.fd, .iovecs, .flags(0), .out(4)],
        "wasi_snapshot_preview1.sock_shutdown": [.fd, .choice(4)],
        // cloister: processes, pipes, sched
        "cloister.spawn": [.path, .stringArray, .stringArray, .fileActions, .out(4)],
        "cloister.wait": [.pid, .out(4), .flags(1), .out(4)],
        "cloister.kill": [.pid, .signal],
        "cloister.getpid": [.out(4)],
        "cloister.getppid": [.out(4)],
        "cloister.gettid": [.out(4)],
        "cloister.pipe": [.out(8)],
        "cloister.sched_getaffinity": [.pid, .lengthThenBuffer, .out(4)],
        "cloister.sched_setaffinity": [.pid, .lengthThenBuffer],
        "cloister.getcpu": [.out(4), .out(4)],
        "cloister.sched_yield": [],
        // cloister: sockets (no network rule in the fuzzed instance: host sockets are refused
        // before any packet or name lookup; a random address is rarely a valid one)
        "cloister.socket": [.choice(11), .flags(0x80803), .choice(18), .out(4)],
        "cloister.bind": [.fd, .out(140)],
        "cloister.listen": [.fd, .any32],
        "cloister.accept": [.fd, .flags(0x80800), .out(140), .out(4)],
        "cloister.connect": [.fd, .out(140)],
        "cloister.sendto": [.fd, .buffer, .flags(0x4040), .out(140), .out(4)],
        "cloister.recvfrom": [.fd, .buffer, .flags(0x162), .out(140), .out(4)],
        "cloister.sendmsg": [.fd, .out(24), .flags(0x4040), .out(4)],
        "cloister.recvmsg": [.fd, .out(24), .flags(0x162), .out(4)],
        "cloister.shutdown": [.fd, .choice(3)],
        "cloister.getsockname": [.fd, .out(140)],
        "cloister.getpeername": [.fd, .out(140)],
        "cloister.getsockopt": [.fd, .choice(7), .choice(31), .out(4)],
        "cloister.setsockopt": [.fd, .choice(7), .choice(31), .any32],
        "cloister.resolve": [.buffer, .choice(65536), .out(140), .choice(65), .out(4)],
        // env: a function's declared files (Teaclave's names are the same syscalls)
        "env.cloister_open_input": [.cString],
        "env.cloister_create_output": [.cString],
        "env.cloister_read_file": [.fd, .buffer],
        "env.cloister_write_file": [.fd, .buffer],
        "env.cloister_close_file": [.fd],
        "env.teaclave_open_input": [.cString],
        "env.teaclave_create_output": [.cString],
        "env.teaclave_read_file": [.fd, .buffer],
        "env.teaclave_write_file": [.fd, .buffer],
        "env.teaclave_close_file": [.fd],
        // wasi-threads
        "wasi.thread-spawn": [.any32],
    ]
}

/// The kernel's process type, named where Foundation's `Process` would make it ambiguous.
typealias KernelProcess = Process
