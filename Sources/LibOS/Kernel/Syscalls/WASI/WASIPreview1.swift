/// The LibOS's own implementation of `wasi_snapshot_preview1`.
///
/// Every function of the module is here, grouped by family in the files beside this one. Each
/// handler checks every guest pointer and length before use (``UserMemory`` answers `EFAULT`),
/// checks the descriptor's rights (`ENOTCAPABLE`), and answers errno values with WASI's meaning,
/// taking wasmtime as the reference behaviour.
public enum WASIPreview1 {
    public static let moduleName = "wasi_snapshot_preview1"

    /// Every syscall of the module, by name.
    public static let syscalls: [String: Syscall] = {
        var table: [String: Syscall] = [:]
        func add(_ name: String, _ parameters: [SyscallParameter], _ body: @escaping @Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Void) {
            table[name] = Syscall(name: name, parameters: parameters, behavior: .errno(body))
        }
        // Arguments and environment
        add("args_get", [.i32, .i32], argsGet)
        add("args_sizes_get", [.i32, .i32], argsSizesGet)
        add("environ_get", [.i32, .i32], environGet)
        add("environ_sizes_get", [.i32, .i32], environSizesGet)
        // Clocks and randomness
        add("clock_res_get", [.i32, .i32], clockResGet)
        add("clock_time_get", [.i32, .i64, .i32], clockTimeGet)
        add("random_get", [.i32, .i32], randomGet)
        // Descriptors
        add("fd_advise", [.i32, .i64, .i64, .i32], fdAdvise)
        add("fd_allocate", [.i32, .i64, .i64], fdAllocate)
        add("fd_close", [.i32], fdClose)
        add("fd_datasync", [.i32], fdDatasync)
        add("fd_fdstat_get", [.i32, .i32], fdFdstatGet)
        add("fd_fdstat_set_flags", [.i32, .i32], fdFdstatSetFlags)
        add("fd_fdstat_set_rights", [.i32, .i64, .i64], fdFdstatSetRights)
        add("fd_filestat_get", [.i32, .i32], fdFilestatGet)
        add("fd_filestat_set_size", [.i32, .i64], fdFilestatSetSize)
        add("fd_filestat_set_times", [.i32, .i64, .i64, .i32], fdFilestatSetTimes)
        add("fd_pread", [.i32, .i32, .i32, .i64, .i32], fdPread)
        add("fd_prestat_get", [.i32, .i32], fdPrestatGet)
        add("fd_prestat_dir_name", [.i32, .i32, .i32], fdPrestatDirName)
        add("fd_pwrite", [.i32, .i32, .i32, .i64, .i32], fdPwrite)
        add("fd_read", [.i32, .i32, .i32, .i32], fdRead)
        add("fd_readdir", [.i32, .i32, .i32, .i64, .i32], fdReaddir)
        add("fd_renumber", [.i32, .i32], fdRenumber)
        add("fd_seek", [.i32, .i64, .i32, .i32], fdSeek)
        add("fd_sync", [.i32], fdSync)
        add("fd_tell", [.i32, .i32], fdTell)
        add("fd_write", [.i32, .i32, .i32, .i32], fdWrite)
        // Paths
        add("path_create_directory", [.i32, .i32, .i32], pathCreateDirectory)
        add("path_filestat_get", [.i32, .i32, .i32, .i32, .i32], pathFilestatGet)
        add("path_filestat_set_times", [.i32, .i32, .i32, .i32, .i64, .i64, .i32], pathFilestatSetTimes)
        add("path_link", [.i32, .i32, .i32, .i32, .i32, .i32, .i32], pathLink)
        add("path_open", [.i32, .i32, .i32, .i32, .i32, .i64, .i64, .i32, .i32], pathOpen)
        add("path_readlink", [.i32, .i32, .i32, .i32, .i32, .i32], pathReadlink)
        add("path_remove_directory", [.i32, .i32, .i32], pathRemoveDirectory)
        add("path_rename", [.i32, .i32, .i32, .i32, .i32, .i32], pathRename)
        add("path_symlink", [.i32, .i32, .i32, .i32, .i32], pathSymlink)
        add("path_unlink_file", [.i32, .i32, .i32], pathUnlinkFile)
        // Polling, processes, scheduling
        add("poll_oneoff", [.i32, .i32, .i32, .i32], pollOneoff)
        table["proc_exit"] = Syscall(name: "proc_exit", parameters: [.i32], behavior: .exit)
        add("proc_raise", [.i32], procRaise)
        add("sched_yield", [], schedYield)
        // Sockets (no network in this version: ENOTSOCK / EBADF)
        add("sock_accept", [.i32, .i32, .i32], sockAccept)
        add("sock_recv", [.i32, .i32, .i32, .i32, .i32, .i32], sockRecv)
        add("sock_send", [.i32, .i32, .i32, .i32, .i32], sockSend)
        add("sock_shutdown", [.i32, .i32], sockShutdown)
        return table
    }()
}
