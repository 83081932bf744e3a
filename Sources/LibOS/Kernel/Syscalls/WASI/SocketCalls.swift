extension WASIPreview1 {
    /// The descriptor of a socket call: `EBADF` if not open, `ENOTSOCK` if not a socket.
    /// This version of the LibOS has no network, so no descriptor is ever a socket.
    private static func socket(_ c: SyscallContext, _ fd: UInt32) throws(Errno) -> Never {
        let entry = try c.files.get(fd)
        switch entry.description.fileType {
        case .socketStream, .socketDgram: throw .notsup
        default: throw .notsock
        }
    }

    static func sockAccept(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(2), 4)
        if a.u32(1) & ~0x4 != 0 { throw .inval }
        try socket(c, a.u32(0))
    }

    static func sockRecv(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        _ = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        try c.memory.check(a.u32(4), 4)
        try c.memory.check(a.u32(5), 2)
        try socket(c, a.u32(0))
    }

    static func sockSend(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        _ = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        try c.memory.check(a.u32(4), 4)
        try socket(c, a.u32(0))
    }

    static func sockShutdown(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        if a.u32(1) == 0 || a.u32(1) > 3 { throw .inval }
        try socket(c, a.u32(0))
    }
}
