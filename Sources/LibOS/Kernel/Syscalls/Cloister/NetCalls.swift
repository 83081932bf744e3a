import CCloisterABI

/// The socket calls of the `cloister` module (`Sources/LibOS/Net`): every address is a guest
/// `struct cloister_sockaddr`, every message a `struct cloister_msghdr`, and every guest
/// pointer is checked before the call acts (`EFAULT`, nothing done).
extension CloisterModule {
    static let addressSize = UInt32(MemoryLayout<cloister_sockaddr>.size)

    /// The socket behind `fd`: `EBADF` if not open, `ENOTSOCK` if not a socket, `ENOTCAPABLE`
    /// without `rights`; and whether calls on it may wait (not `O_NONBLOCK`).
    static func socket(_ c: SyscallContext, _ fd: UInt32, requiring rights: Rights = []) throws(Errno) -> (socket: any Socket, waits: Bool) {
        let entry = try c.files.get(fd)
        guard let socket = entry.description as? any Socket else { throw Errno.notsock }
        if !entry.rightsBase.isSuperset(of: rights) { throw Errno.notcapable }
        return (socket, !entry.flags.contains(.nonblock))
    }

    /// Installs a new socket at the lowest free descriptor.
    static func install(_ c: SyscallContext, _ socket: any Socket, nonBlocking: Bool) throws(Errno) -> UInt32 {
        let entry = FileTable.Entry(description: socket, rightsBase: .socket, rightsInheriting: [], flags: nonBlocking ? .nonblock : [])
        do {
            return try c.files.insert(entry)
        } catch {
            entry.file.release()
            throw error
        }
    }

    /// `socket(domain, type, protocol, fd_out)`: a new socket. `type` is `SOCK_STREAM` or
    /// `SOCK_DGRAM`, or-ed with `SOCK_NONBLOCK`/`SOCK_CLOEXEC`; `protocol` is 0 or the type's own
    /// (TCP 6, UDP 17). AF_UNIX is stream only. Errors: `EAFNOSUPPORT`, `EPROTONOSUPPORT`,
    /// `EINVAL`, `EMFILE`, `EFAULT`.
    static func socket(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (domainNumber, type, proto, output) = (Int32(bitPattern: a.u32(0)), Int32(bitPattern: a.u32(1)), Int32(bitPattern: a.u32(2)), a.u32(3))
        try c.memory.check(output, 4)
        let flags = type & (CLOISTER_SOCK_NONBLOCK | CLOISTER_SOCK_CLOEXEC)
        guard let domain = SocketDomain(rawValue: domainNumber) else { throw Errno.afnosupport.with(reason: "address family \(domainNumber)") }
        guard let kind = SocketKind(rawValue: type & ~flags) else { throw Errno.protonosupport.with(reason: "socket type \(type & ~flags)") }
        let expected: Int32 = domain == .unix ? 0 : kind == .stream ? 6 : 17
        if proto != 0 && proto != expected { throw Errno.protonosupport.with(reason: "protocol \(proto)") }
        let socket: any Socket
        switch domain {
        case .unix:
            if kind != .stream { throw Errno.protonosupport.with(reason: "AF_UNIX datagram sockets") }
            socket = UnixSocket(namespace: c.kernel.unixNames)
        case .inet, .inet6:
            socket = try HostSocket.make(domain: domain, kind: kind, policy: c.kernel.network)
        }
        let fd = try install(c, socket, nonBlocking: flags & CLOISTER_SOCK_NONBLOCK != 0)
        try c.memory.storeU32(fd, at: output)
    }

    /// `bind(fd, addr)`. Errors: `EACCES` (network rules), `EADDRINUSE`, `EAFNOSUPPORT`, `EINVAL`, `EFAULT`.
    static func bind(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let address = try SocketAddress.load(from: a.u32(1), in: c.memory)
        try socket(c, a.u32(0)).socket.bind(address)
    }

    /// `listen(fd, backlog)`. Errors: `EACCES` (an unbound socket and no rule for every
    /// interface), `EINVAL` (AF_UNIX not bound), `ENOTSUP` (datagram).
    static func listen(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try socket(c, a.u32(0)).socket.listen(backlog: Int(Int32(bitPattern: a.u32(1))))
    }

    /// `accept(fd, flags, addr_out, fd_out)`: the next connection (`addr_out` 0: no address);
    /// `flags` may hold `SOCK_NONBLOCK` (for the new descriptor) and `SOCK_CLOEXEC`. Waits
    /// unless the descriptor is `O_NONBLOCK` (`EAGAIN`). Errors: `EINVAL`, `EINTR`, `EMFILE`, `EFAULT`.
    static func accept(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (flags, addressOut, output) = (Int32(bitPattern: a.u32(1)), a.u32(2), a.u32(3))
        if flags & ~(CLOISTER_SOCK_NONBLOCK | CLOISTER_SOCK_CLOEXEC) != 0 { throw Errno.inval.with(reason: "accept flags \(flags)") }
        if addressOut != 0 { try c.memory.check(addressOut, addressSize) }
        try c.memory.check(output, 4)
        let (listener, waits) = try socket(c, a.u32(0))
        let (accepted, peer) = try listener.accept(waits: waits)
        let fd = try install(c, accepted, nonBlocking: flags & CLOISTER_SOCK_NONBLOCK != 0)
        try c.memory.storeU32(fd, at: output)
        if addressOut != 0 { try peer.store(at: addressOut, in: c.memory) }
    }

    /// `connect(fd, addr)`: waits for the connection unless `O_NONBLOCK` (`EINPROGRESS`: poll
    /// for writable, then read `SO_ERROR`). Errors: `EACCES` (network rules), `ECONNREFUSED`,
    /// `ENOENT` (no such AF_UNIX name), `EISCONN`, `EALREADY`, `EINTR`, `EFAULT`.
    static func connect(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let address = try SocketAddress.load(from: a.u32(1), in: c.memory)
        let (socket, waits) = try socket(c, a.u32(0))
        try socket.connect(address, waits: waits)
    }

    private static func sendFlags(_ raw: UInt32) throws(Errno) -> MessageFlags {
        let flags = MessageFlags(rawValue: Int32(bitPattern: raw))
        if !MessageFlags.sendFlags.isSuperset(of: flags) { throw Errno.inval.with(reason: "send flags \(raw)") }
        return flags
    }

    private static func receiveFlags(_ raw: UInt32) throws(Errno) -> MessageFlags {
        let flags = MessageFlags(rawValue: Int32(bitPattern: raw))
        if !MessageFlags.receiveFlags.isSuperset(of: flags) { throw Errno.inval.with(reason: "receive flags \(raw)") }
        return flags
    }

    /// `sendto(fd, buf, len, flags, addr, sent_out)` (`addr` 0: the connected peer; `send`).
    static func sendto(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (buffer, length, flags, addressPointer, output) = (a.u32(1), a.u32(2), try sendFlags(a.u32(3)), a.u32(4), a.u32(5))
        try c.memory.check(output, 4)
        let destination = addressPointer == 0 ? nil : try SocketAddress.load(from: addressPointer, in: c.memory)
        let (socket, waits) = try socket(c, a.u32(0))
        let sent = try IOVectors.overGuest([(buffer, length)], in: c.memory) { (vectors) throws(Errno) in
            try socket.send(vectors, to: destination, flags: flags, waits: waits && !flags.contains(.dontWait))
        }
        try c.memory.storeU32(UInt32(sent), at: output)
    }

    /// `recvfrom(fd, buf, len, flags, addr_out, received_out)` (`addr_out` 0: no sender; `recv`).
    /// A sender the socket does not know (streams) is stored with family `AF_UNSPEC`.
    static func recvfrom(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (buffer, length, flags, addressOut, output) = (a.u32(1), a.u32(2), try receiveFlags(a.u32(3)), a.u32(4), a.u32(5))
        try c.memory.check(output, 4)
        if addressOut != 0 { try c.memory.check(addressOut, addressSize) }
        let (socket, waits) = try socket(c, a.u32(0))
        let received = try IOVectors.overGuest([(buffer, length)], in: c.memory) { (vectors) throws(Errno) in
            try socket.receive(into: vectors, flags: flags, waits: waits && !flags.contains(.dontWait))
        }
        try c.memory.storeU32(UInt32(received.count), at: output)
        if addressOut != 0 { try store(received.sender, at: addressOut, c) }
    }

    private static func store(_ address: SocketAddress?, at pointer: UInt32, _ c: SyscallContext) throws(Errno) {
        if let address { return try address.store(at: pointer, in: c.memory) }
        try c.memory.withBytes(at: pointer, count: addressSize) { $0.initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// A guest `struct cloister_msghdr`, checked: the header, every iovec and the name area
    /// (`EFAULT`), at most 1024 iovecs (`EMSGSIZE`), and no ancillary data (`EOPNOTSUPP`).
    private static func message(_ c: SyscallContext, at pointer: UInt32) throws(Errno) -> (header: cloister_msghdr, vectors: [(base: UInt32, length: UInt32)]) {
        let header = try c.memory.withBytes(at: pointer, count: UInt32(MemoryLayout<cloister_msghdr>.size)) {
            $0.loadUnaligned(as: cloister_msghdr.self)
        }
        if header.control != 0 || header.control_len != 0 {
            throw Errno.notsup.with(reason: "ancillary data (msg_control) is not supported")
        }
        if header.iov_count > UInt32(IOVectors.maximumCount) {
            throw Errno.msgsize.with(reason: "\(header.iov_count) iovecs (at most \(IOVectors.maximumCount))")
        }
        if header.name != 0 { try c.memory.check(header.name, addressSize) }
        return (header, try c.memory.readIOVecs(header.iov, header.iov_count))
    }

    /// `sendmsg(fd, msg, flags, sent_out)`: one host call over the guest's own buffers.
    static func sendmsg(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (messagePointer, flags, output) = (a.u32(1), try sendFlags(a.u32(2)), a.u32(3))
        try c.memory.check(output, 4)
        let (header, vectors) = try message(c, at: messagePointer)
        let destination = header.name == 0 ? nil : try SocketAddress.load(from: header.name, in: c.memory)
        let (socket, waits) = try socket(c, a.u32(0))
        let sent = try IOVectors.overGuest(vectors, in: c.memory) { (buffers) throws(Errno) in
            try socket.send(buffers, to: destination, flags: flags, waits: waits && !flags.contains(.dontWait))
        }
        try c.memory.storeU32(UInt32(sent), at: output)
    }

    /// `recvmsg(fd, msg, flags, received_out)`: one host call into the guest's own buffers;
    /// `msg.flags` is set to `MSG_TRUNC` when a datagram was cut short, and the sender is stored
    /// at `msg.name` when that is not 0.
    static func recvmsg(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (messagePointer, flags, output) = (a.u32(1), try receiveFlags(a.u32(2)), a.u32(3))
        try c.memory.check(output, 4)
        let (header, vectors) = try message(c, at: messagePointer)
        let (socket, waits) = try socket(c, a.u32(0))
        let received = try IOVectors.overGuest(vectors, in: c.memory) { (buffers) throws(Errno) in
            try socket.receive(into: buffers, flags: flags, waits: waits && !flags.contains(.dontWait))
        }
        let flagsOffset = UInt32(MemoryLayout<cloister_msghdr>.offset(of: \cloister_msghdr.flags)!)
        try c.memory.storeU32(received.truncated ? UInt32(CLOISTER_MSG_TRUNC) : 0, at: messagePointer + flagsOffset)
        if header.name != 0 { try store(received.sender, at: header.name, c) }
        try c.memory.storeU32(UInt32(received.count), at: output)
    }

    /// `shutdown(fd, how)`. Errors: `EINVAL`, `ENOTCONN`.
    static func shutdown(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let directions = try ShutdownDirections(how: Int32(bitPattern: a.u32(1)))
        try socket(c, a.u32(0)).socket.shutdown(directions)
    }

    static func getsockname(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(1), addressSize)
        try socket(c, a.u32(0)).socket.localAddress().store(at: a.u32(1), in: c.memory)
    }

    /// Errors: `ENOTCONN`.
    static func getpeername(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(1), addressSize)
        try socket(c, a.u32(0)).socket.peerAddress().store(at: a.u32(1), in: c.memory)
    }

    /// `getsockopt(fd, level, name, value_out)`: an `int32_t` option. Errors: `ENOPROTOOPT`.
    static func getsockopt(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(3), 4)
        let option = try SocketOption(level: Int32(bitPattern: a.u32(1)), name: Int32(bitPattern: a.u32(2)))
        let value = try socket(c, a.u32(0)).socket.option(option)
        try c.memory.storeU32(UInt32(bitPattern: value), at: a.u32(3))
    }

    /// `setsockopt(fd, level, name, value)`. Errors: `ENOPROTOOPT` (unknown or read-only).
    static func setsockopt(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let option = try SocketOption(level: Int32(bitPattern: a.u32(1)), name: Int32(bitPattern: a.u32(2)))
        try socket(c, a.u32(0)).socket.setOption(option, to: Int32(bitPattern: a.u32(3)))
    }

    /// `resolve(name, name_len, port, addrs_out, capacity, count_out)`: the addresses of a host
    /// name the network rules list (an address literal is itself), with `port`; stores at most
    /// `capacity` and their number. Errors: `EACCES` (not listed), `ENOENT` (no such name), `EINVAL`.
    static func resolve(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (namePointer, nameLength, port, output, capacity, countOutput) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3), a.u32(4), a.u32(5))
        if nameLength == 0 || nameLength > 253 { throw Errno.inval.with(reason: "a host name of \(nameLength) bytes") }
        if port > 65535 { throw Errno.inval.with(reason: "port \(port)") }
        if capacity > 64 { throw Errno.inval.with(reason: "room for more than 64 addresses") }
        try c.memory.check(output, capacity &* addressSize)
        try c.memory.check(countOutput, 4)
        let name = try c.memory.readString(namePointer, nameLength)
        let addresses = try c.kernel.network.resolve(name, port: UInt16(port))
        let stored = min(addresses.count, Int(capacity))
        for index in 0..<stored { try addresses[index].store(at: output + UInt32(index) * addressSize, in: c.memory) }
        try c.memory.storeU32(UInt32(stored), at: countOutput)
    }
}
