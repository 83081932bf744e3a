import CCloisterABI
import CLibOSHost

#if canImport(Glibc)
import Glibc
#endif

/// An AF_INET or AF_INET6 socket, TCP or UDP: a host socket the LibOS owns.
///
/// **Never blocking on the host.** The host descriptor is non-blocking; every call is one
/// attempt (`MSG_DONTWAIT`), and a call that would block waits on the description's
/// ``waiterQueue`` like every wait in the kernel: the ``HostNotifier`` watches the descriptor
/// while a guest thread waits on it and says when it changed, and a kill ends the wait
/// (`EINTR`). So a guest blocked in accept, recv or connect holds no host thread past its end.
///
/// **Policy.** Every call that picks an address asks the instance's ``NetworkPolicy`` first:
/// bind and listen, connect, a datagram sent to an address.
///
/// **Closing.** A host descriptor number is reused by the host as soon as it is closed, so it
/// is closed only once no call of another guest thread is using it (``withDescriptor(_:)``);
/// a close wakes every waiter, whose next attempt finds the socket closed (`EBADF`).
final class HostSocket: Socket, @unchecked Sendable {
    let domain: SocketDomain
    let kind: SocketKind
    let waiterQueue: WaiterQueue
    private let policy: NetworkPolicy
    private let lock = KernelLock()
    private var fd: Int32
    private var users = 0
    private var isClosed = false
    /// Whether the guest bound it (under a `listen` rule). A datagram socket the host bound on
    /// its first send receives only from senders a `connect` rule allows: sending to one server
    /// must not open the socket to datagrams from everyone else.
    private var isBoundByGuest = false

    /// A new host socket of `domain` and `kind`.
    static func make(domain: SocketDomain, kind: SocketKind, policy: NetworkPolicy) throws(Errno) -> HostSocket {
        let type = (kind == .stream ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue))
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try hostCall { Glibc.socket(domain == .inet ? AF_INET : AF_INET6, type, 0) }
        return HostSocket(fd: fd, domain: domain, kind: kind, policy: policy)
    }

    private init(fd: Int32, domain: SocketDomain, kind: SocketKind, policy: NetworkPolicy) {
        self.fd = fd
        self.domain = domain
        self.kind = kind
        self.policy = policy
        waiterQueue = WaiterQueue(interestChanged: { (queue, events) throws(Errno) in
            try HostNotifier.shared.setInterest(events, fd: fd, queue: queue)
        })
    }

    // MARK: The descriptor's life

    /// Calls `body` with the host descriptor, which stays open until it returns (`EBADF` once closed).
    private func withDescriptor<T>(_ body: (Int32) throws(Errno) -> T) throws(Errno) -> T {
        let fd = try lock.withLock { () throws(Errno) -> Int32 in
            if isClosed { throw .badf }
            users += 1
            return self.fd
        }
        defer {
            let closing = lock.withLock { () -> Int32? in
                users -= 1
                return isClosed && users == 0 ? takeDescriptorLocked() : nil
            }
            if let closing { Glibc.close(closing) }
        }
        return try body(fd)
    }

    private func takeDescriptorLocked() -> Int32? {
        guard fd >= 0 else { return nil }
        defer { fd = -1 }
        return fd
    }

    func close() {
        let closing = lock.withLock { () -> Int32? in
            isClosed = true
            return users == 0 ? takeDescriptorLocked() : nil
        }
        if let closing { Glibc.close(closing) }
        waiterQueue.notify([.error, .hangUp])
    }

    /// One attempt of `attempt` (a non-blocking host call answering nil for "would block"), or,
    /// when `waits`, attempts until it answers, waiting for `events` in between.
    private func perform<T>(waitingFor events: Events, waits: Bool, _ attempt: (Int32) throws(Errno) -> T?) throws(Errno) -> T {
        if !waits {
            guard let value = try withDescriptor(attempt) else { throw .again }
            return value
        }
        return try Blocking.wait(on: [WaitInterest(waiterQueue, events)]) { () throws(Errno) -> T? in try withDescriptor(attempt) }
    }

    // MARK: Readiness

    func readiness(_ mask: Events) -> Events {
        (try? withDescriptor { fd in HostReadiness.of(fd, mask) }) ?? Events.unmaskable.intersection(mask.withUnmaskable)
    }

    func readableBytes() -> UInt64? {
        try? withDescriptor { fd in
            var available: Int32 = 0
            return ioctl(fd, UInt(FIONREAD), &available) == 0 && available >= 0 ? UInt64(available) : nil
        }
    }

    // MARK: Addresses and connections

    func bind(_ address: SocketAddress) throws(Errno) {
        try checkFamily(address)
        try policy.checkListen(address)
        try withDescriptor { (fd) throws(Errno) in
            _ = try address.withHostAddress { (pointer, length) throws(Errno) in try hostCall { Glibc.bind(fd, pointer, length) } }
        }
        lock.withLock { isBoundByGuest = true }
    }

    func listen(backlog: Int) throws(Errno) {
        if kind != .stream { throw Errno.notsup.with(reason: "listen on a datagram socket") }
        // An unbound socket would listen on every interface at a port of the host's choice.
        if case .ip(_, let port, _, _) = try localAddress(), port == 0 {
            let any = IPAddress(bytes: [UInt8](repeating: 0, count: domain == .inet ? 4 : 16))!
            try policy.checkListen(.ip(any, port: 0))
        }
        try withDescriptor { (fd) throws(Errno) in _ = try hostCall { Glibc.listen(fd, Int32(min(max(backlog, 1), 4096))) } }
    }

    func accept(waits: Bool) throws(Errno) -> (socket: any Socket, peer: SocketAddress) {
        if kind != .stream { throw Errno.notsup.with(reason: "accept on a datagram socket") }
        let (descriptor, storage) = try perform(waitingFor: .readable, waits: waits) { (fd) throws(Errno) -> (Int32, sockaddr_storage)? in
            var storage = sockaddr_storage()
            var length = UInt32(MemoryLayout<sockaddr_storage>.size)
            while true {
                let accepted = cloister_host_accept(fd, &storage, &length)
                if accepted >= 0 { return (accepted, storage) }
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw Errno(host: errno)
            }
        }
        let socket = HostSocket(fd: descriptor, domain: domain, kind: kind, policy: policy)
        return (socket, SocketAddress(host: storage) ?? .ip(IPAddress(bytes: [0, 0, 0, 0])!, port: 0))
    }

    func connect(_ address: SocketAddress, waits: Bool) throws(Errno) {
        try checkFamily(address)
        try policy.checkConnect(address)
        let connected = try withDescriptor { (fd) throws(Errno) -> Bool in
            try address.withHostAddress { (pointer, length) throws(Errno) -> Bool in
                if Glibc.connect(fd, pointer, length) == 0 { return true }
                if errno == EINPROGRESS || errno == EINTR { return false }
                throw Errno(host: errno)
            }
        }
        if connected { return }
        if !waits { throw Errno.inprogress }
        try perform(waitingFor: .writable, waits: true) { (fd) throws(Errno) -> Void? in
            if HostReadiness.of(fd, .writable).isEmpty { return nil }
            let error = try Self.intOption(fd, SOL_SOCKET, SO_ERROR)
            if error != 0 { throw Errno(host: error) }
            return ()
        }
    }

    private func checkFamily(_ address: SocketAddress) throws(Errno) {
        guard case .ip(let ip, _, _, _) = address else {
            throw Errno.afnosupport.with(reason: "an AF_UNIX address for an AF_INET socket")
        }
        if ip.isV4 != (domain == .inet) {
            throw Errno.afnosupport.with(reason: "an \(ip.isV4 ? "IPv4" : "IPv6") address for an AF_INET\(domain == .inet ? "" : "6") socket")
        }
    }

    func localAddress() throws(Errno) -> SocketAddress {
        try address(getsockname)
    }

    func peerAddress() throws(Errno) -> SocketAddress {
        try address(getpeername)
    }

    private func address(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) throws(Errno) -> SocketAddress {
        try withDescriptor { (fd) throws(Errno) -> SocketAddress in
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let result = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) } }
            if result != 0 { throw Errno(host: errno) }
            guard let address = SocketAddress(host: storage) else { throw Errno.afnosupport }
            return address
        }
    }

    func shutdown(_ directions: ShutdownDirections) throws(Errno) {
        let how = directions == [.read, .write] ? Int32(SHUT_RDWR) : directions == .read ? Int32(SHUT_RD) : Int32(SHUT_WR)
        try withDescriptor { (fd) throws(Errno) in _ = try hostCall { Glibc.shutdown(fd, how) } }
    }

    // MARK: Transfers

    func send(_ buffers: IOVectors, to destination: SocketAddress?, flags: MessageFlags, waits: Bool) throws(Errno) -> Int {
        if let destination {
            if kind == .stream { throw Errno.isconn.with(reason: "a destination for a stream socket") }
            try checkFamily(destination)
            try policy.checkConnect(destination)
        }
        var remaining = buffers
        var sent = 0
        while true {
            let step: Int
            do {
                step = try perform(waitingFor: .writable, waits: waits) { (fd) throws(Errno) -> Int? in
                    try Self.sendOnce(fd, remaining, to: destination)
                }
            } catch {
                if error == .pipe && !flags.contains(.noSignal) {
                    GuestThread.current?.process.deliver(.pipe, reason: "sent on a socket whose peer is gone")
                }
                // Bytes already sent stay sent: report them, as send(2) does.
                if sent > 0 && (error == .intr || error == .again) { return sent }
                throw error
            }
            sent += step
            remaining.advance(by: step)
            // A blocking stream send takes everything; a datagram is one call.
            if kind == .datagram || !waits || remaining.totalLength == 0 { return sent }
        }
    }

    /// One `sendmsg` over `vectors`; nil when the socket has no room now.
    private static func sendOnce(_ fd: Int32, _ vectors: IOVectors, to destination: SocketAddress?) throws(Errno) -> Int? {
        func call(_ name: UnsafePointer<sockaddr>?, _ length: socklen_t) throws(Errno) -> Int? {
            var header = msghdr()
            header.msg_name = UnsafeMutableRawPointer(mutating: name)
            header.msg_namelen = length
            header.msg_iov = vectors.vectors.baseAddress
            header.msg_iovlen = vectors.vectors.count
            while true {
                let result = sendmsg(fd, &header, Int32(MSG_DONTWAIT) | Int32(MSG_NOSIGNAL))
                if result >= 0 { return result }
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                throw Errno(host: errno)
            }
        }
        guard let destination else { return try call(nil, 0) }
        return try destination.withHostAddress { (pointer, length) throws(Errno) in try call(pointer, length) }
    }

    func receive(into buffers: IOVectors, flags: MessageFlags, waits: Bool) throws(Errno) -> Received {
        let hostFlags = flags.intersection([.peek, .truncate]).rawValue | Int32(MSG_DONTWAIT)
        var remaining = buffers
        var total = Received(count: 0, truncated: false, sender: nil)
        // MSG_WAITALL: a blocking stream receive fills every buffer unless the stream ends.
        let fills = flags.contains(.waitAll) && !flags.contains(.peek) && kind == .stream && waits
        let filtersSenders = kind == .datagram && !lock.withLock { isBoundByGuest }
        while true {
            let step: Received
            do {
                step = try perform(waitingFor: .readable, waits: waits) { (fd) throws(Errno) -> Received? in
                    var storage = sockaddr_storage()
                    var header = msghdr()
                    let vectors = remaining.vectors
                    return try withUnsafeMutablePointer(to: &storage) { (name) throws(Errno) -> Received? in
                        header.msg_name = UnsafeMutableRawPointer(name)
                        header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                        header.msg_iov = vectors.baseAddress
                        header.msg_iovlen = vectors.count
                        while true {
                            let result = recvmsg(fd, &header, hostFlags)
                            if result >= 0 {
                                let sender = kind == .datagram && header.msg_namelen > 0 ? SocketAddress(host: name.pointee) : nil
                                if filtersSenders, let sender, !policy.allowsConnect(to: sender) {
                                    // Dropped (taken off the queue when it was only peeked at),
                                    // then the next one: nothing of it reaches the guest.
                                    if hostFlags & Int32(MSG_PEEK) != 0 { _ = Glibc.recv(fd, nil, 0, Int32(MSG_DONTWAIT)) }
                                    header.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
                                    header.msg_flags = 0
                                    continue
                                }
                                return Received(count: result, truncated: header.msg_flags & Int32(MSG_TRUNC) != 0, sender: sender)
                            }
                            if errno == EINTR { continue }
                            if errno == EAGAIN || errno == EWOULDBLOCK { return nil }
                            throw Errno(host: errno)
                        }
                    }
                }
            } catch {
                if total.count > 0 && (error == .intr || error == .again) { return total }
                throw error
            }
            total.count += step.count
            total.truncated = step.truncated
            total.sender = step.sender
            remaining.advance(by: step.count)
            if !fills || step.count == 0 || remaining.totalLength == 0 { return total }
        }
    }

    // MARK: Options

    func option(_ option: SocketOption) throws(Errno) -> Int32 {
        switch option {
        case .type: return kind.rawValue
        default:
            let (level, name) = Self.hostOption(option)
            return try withDescriptor { (fd) throws(Errno) in try Self.intOption(fd, level, name) }
        }
    }

    func setOption(_ option: SocketOption, to value: Int32) throws(Errno) {
        if option.isReadOnly { throw Errno.noprotoopt.with(reason: "\(option) is read-only") }
        if option == .noDelay && kind != .stream { throw Errno.noprotoopt.with(reason: "TCP_NODELAY on a datagram socket") }
        let (level, name) = Self.hostOption(option)
        try withDescriptor { (fd) throws(Errno) in
            var value = value
            _ = try hostCall { setsockopt(fd, level, name, &value, socklen_t(4)) }
        }
    }

    private static func hostOption(_ option: SocketOption) -> (Int32, Int32) {
        switch option {
        case .reuseAddress: return (SOL_SOCKET, SO_REUSEADDR)
        case .type: return (SOL_SOCKET, SO_TYPE)
        case .error: return (SOL_SOCKET, SO_ERROR)
        case .sendBuffer: return (SOL_SOCKET, SO_SNDBUF)
        case .receiveBuffer: return (SOL_SOCKET, SO_RCVBUF)
        case .keepAlive: return (SOL_SOCKET, SO_KEEPALIVE)
        case .acceptsConnections: return (SOL_SOCKET, SO_ACCEPTCONN)
        case .noDelay: return (Int32(IPPROTO_TCP), TCP_NODELAY)
        }
    }

    private static func intOption(_ fd: Int32, _ level: Int32, _ name: Int32) throws(Errno) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(4)
        _ = try hostCall { getsockopt(fd, level, name, &value, &length) }
        return value
    }
}
