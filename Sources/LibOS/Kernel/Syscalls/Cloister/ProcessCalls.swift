import CCloisterABI

extension CloisterModule {
    /// `spawn(path, path_len, argv, argc, envp, envc, actions, action_count, pid_out)`: starts
    /// the program at the absolute guest path as a child with the caller's descriptors, then
    /// the file actions in order (posix_spawn). argv and envp are arrays of pointers to
    /// NUL-terminated strings. Errors: those of creating a process (`ENOENT`, `EACCES`,
    /// `ENOEXEC`, `EAGAIN`, `ENOMEM`), of a file action, `EFAULT`, `E2BIG`.
    static func spawn(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(0), a.u32(1))
        let arguments = try c.memory.readCStringArray(a.u32(2), count: a.u32(3))
        let environment = try c.memory.readCStringArray(a.u32(4), count: a.u32(5))
        let (actionsPointer, actionCount, pidPointer) = (a.u32(6), a.u32(7), a.u32(8))
        if actionCount > 256 { throw Errno.inval.with(reason: "more than 256 spawn file actions") }
        let size = UInt32(MemoryLayout<cloister_spawn_file_action>.size)
        try c.memory.check(actionsPointer, actionCount &* size)
        try c.memory.check(pidPointer, 4)
        var actions: [SpawnFileAction] = []
        for index in 0..<actionCount {
            let raw = try c.memory.withBytes(at: actionsPointer + index * size, count: size) { bytes in
                bytes.loadUnaligned(as: cloister_spawn_file_action.self)
            }
            actions.append(try SpawnFileAction.decode(raw, memory: c.memory))
        }
        let pid = try c.kernel.spawn(from: c.thread, path: path, arguments: arguments, environment: environment, fileActions: actions)
        try c.memory.storeU32(UInt32(bitPattern: pid), at: pidPointer)
    }

    /// `wait(pid, status_out, options, pid_out)`: reaps an ended child (`pid` -1: any), as
    /// wait4. `options` may hold `CLOISTER_WNOHANG`: then `pid_out` is 0 when none has ended.
    /// Errors: `ECHILD` (no such child), `EINVAL` (bad options or pid).
    static func wait(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let pid = Int32(bitPattern: a.u32(0))
        let (statusPointer, options, pidPointer) = (a.u32(1), a.u32(2), a.u32(3))
        if options & ~UInt32(CLOISTER_WNOHANG) != 0 { throw Errno.inval.with(reason: "unknown wait options \(options)") }
        if pid == 0 || pid < -1 { throw Errno.inval.with(reason: "process groups are not supported (pid \(pid))") }
        try c.memory.check(statusPointer, 4)
        try c.memory.check(pidPointer, 4)
        let result = try c.kernel.table.waitForChild(
            of: c.process, pid: pid, noHang: options & UInt32(CLOISTER_WNOHANG) != 0, thread: c.thread)
        try c.memory.storeU32(UInt32(bitPattern: result?.status.rawValue ?? 0), at: statusPointer)
        try c.memory.storeU32(UInt32(bitPattern: result?.pid ?? 0), at: pidPointer)
    }

    /// `kill(pid, signal)`: sends a signal to a process of the instance (`pid` -1: every other
    /// process). Signal 0 checks that the process exists. Guests cannot install handlers, so
    /// the default action applies: SIGCHLD, SIGCONT, SIGURG and SIGWINCH are ignored, stop
    /// signals are `ENOTSUP`, every other signal ends the process.
    static func kill(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let pid = Int32(bitPattern: a.u32(0))
        let signal = Signal(rawValue: Int32(bitPattern: a.u32(1)))
        guard signal.rawValue == 0 || signal.isValid else { throw Errno.inval.with(reason: "\(signal.rawValue) is not a signal") }
        if signal.stopsByDefault { throw Errno.notsup.with(reason: "stop signals are not supported") }
        if pid == 0 || pid < -1 { throw Errno.inval.with(reason: "process groups are not supported (pid \(pid))") }
        try c.kernel.deliver(signal, to: pid, sender: c.process.pid)
    }

    static func getpid(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.storeU32(UInt32(bitPattern: c.process.pid), at: a.u32(0))
    }

    static func getppid(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let parent = c.kernel.table.lock.withLock { c.process.parentPID }
        try c.memory.storeU32(UInt32(bitPattern: parent), at: a.u32(0))
    }

    static func gettid(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.storeU32(UInt32(bitPattern: c.thread.tid), at: a.u32(0))
    }
}
