extension WASIPreview1 {
    /// `sock_accept(fd, flags, fd_out)`: accepts on a listening socket of the `cloister`
    /// module; `flags` may hold `FDFLAGS_NONBLOCK` for the new descriptor.
    static func sockAccept(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(2), 4)
        if a.u32(1) & ~UInt32(FDFlags.nonblock.rawValue) != 0 { throw .inval }
        let (listener, waits) = try CloisterModule.socket(c, a.u32(0), requiring: .sockAccept)
        let (accepted, _) = try listener.accept(waits: waits)
        let fd = try CloisterModule.install(c, accepted, nonBlocking: a.u32(1) != 0)
        try c.memory.storeU32(fd, at: a.u32(2))
    }

    /// `sock_recv(fd, iovs, iovs_len, ri_flags, ro_datalen_out, ro_flags_out)`: `ri_flags`
    /// `RECV_PEEK` (1), `RECV_WAITALL` (2); `ro_flags` gets `RECV_DATA_TRUNCATED` (1).
    static func sockRecv(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        try c.memory.check(a.u32(4), 4)
        try c.memory.check(a.u32(5), 2)
        if a.u32(3) & ~3 != 0 { throw .inval }
        var flags: MessageFlags = []
        if a.u32(3) & 1 != 0 { flags.insert(.peek) }
        if a.u32(3) & 2 != 0 { flags.insert(.waitAll) }
        let (socket, waits) = try CloisterModule.socket(c, a.u32(0), requiring: .fdRead)
        let received = try IOVectors.overGuest(vectors, in: c.memory) { (buffers) throws(Errno) in
            try socket.receive(into: buffers, flags: flags, waits: waits)
        }
        try c.memory.storeU32(UInt32(received.count), at: a.u32(4))
        try c.memory.withBytes(at: a.u32(5), count: 2) { $0.storeBytes(of: UInt16(received.truncated ? 1 : 0).littleEndian, as: UInt16.self) }
    }

    /// `sock_send(fd, iovs, iovs_len, si_flags, so_datalen_out)`: `si_flags` must be 0.
    static func sockSend(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        try c.memory.check(a.u32(4), 4)
        if a.u32(3) != 0 { throw .inval }
        let (socket, waits) = try CloisterModule.socket(c, a.u32(0), requiring: .fdWrite)
        let sent = try IOVectors.overGuest(vectors, in: c.memory) { (buffers) throws(Errno) in
            try socket.send(buffers, to: nil, flags: [], waits: waits)
        }
        try c.memory.storeU32(UInt32(sent), at: a.u32(4))
    }

    /// `sock_shutdown(fd, how)`: `how` is `SDFLAGS_RD` (1), `SDFLAGS_WR` (2) or both.
    static func sockShutdown(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        if a.u32(1) == 0 || a.u32(1) > 3 { throw .inval }
        var directions: ShutdownDirections = []
        if a.u32(1) & 1 != 0 { directions.insert(.read) }
        if a.u32(1) & 2 != 0 { directions.insert(.write) }
        try CloisterModule.socket(c, a.u32(0), requiring: .sockShutdown).socket.shutdown(directions)
    }
}
