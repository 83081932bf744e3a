import CCloisterABI

/// A socket's communication domain (`AF_*`, Linux numbering as in `cloister.h`).
public enum SocketDomain: Int32, Sendable {
    case unix = 1
    case inet = 2
    case inet6 = 10
}

/// A socket's type: a byte stream (TCP, AF_UNIX stream) or datagrams (UDP).
public enum SocketKind: Int32, Sendable {
    case stream = 1
    case datagram = 2

    var fileType: FileType { self == .stream ? .socketStream : .socketDgram }
}

/// Which directions `shutdown` closes (`SHUT_RD`, `SHUT_WR`, `SHUT_RDWR`).
public struct ShutdownDirections: OptionSet, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let read = ShutdownDirections(rawValue: 1)
    public static let write = ShutdownDirections(rawValue: 2)

    /// `how` as `shutdown(2)` numbers it; `EINVAL` for anything else.
    init(how: Int32) throws(Errno) {
        switch how {
        case CLOISTER_SHUT_RD: self = .read
        case CLOISTER_SHUT_WR: self = .write
        case CLOISTER_SHUT_RDWR: self = [.read, .write]
        default: throw Errno.inval.with(reason: "shutdown how \(how)")
        }
    }
}

/// The flags of a send or a receive (`MSG_*`, Linux numbering, so they pass to the host as they are).
public struct MessageFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }
    public static let peek = MessageFlags(rawValue: CLOISTER_MSG_PEEK)
    public static let controlTruncated = MessageFlags(rawValue: CLOISTER_MSG_CTRUNC)
    public static let truncate = MessageFlags(rawValue: CLOISTER_MSG_TRUNC)
    public static let dontWait = MessageFlags(rawValue: CLOISTER_MSG_DONTWAIT)
    public static let waitAll = MessageFlags(rawValue: CLOISTER_MSG_WAITALL)
    public static let noSignal = MessageFlags(rawValue: CLOISTER_MSG_NOSIGNAL)

    /// What a receive accepts.
    static let receiveFlags: MessageFlags = [.peek, .truncate, .dontWait, .waitAll]
    /// What a send accepts.
    static let sendFlags: MessageFlags = [.dontWait, .noSignal]
}

/// The socket options the kernel knows (`getsockopt`/`setsockopt`); every value is an `int32_t`.
public enum SocketOption: Sendable, Hashable {
    case reuseAddress, type, error, sendBuffer, receiveBuffer, keepAlive, acceptsConnections, noDelay

    /// The option at (`level`, `name`); `ENOPROTOOPT` for one the kernel does not know.
    init(level: Int32, name: Int32) throws(Errno) {
        switch (level, name) {
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_REUSEADDR): self = .reuseAddress
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_TYPE): self = .type
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_ERROR): self = .error
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_SNDBUF): self = .sendBuffer
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_RCVBUF): self = .receiveBuffer
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_KEEPALIVE): self = .keepAlive
        case (CLOISTER_SOL_SOCKET, CLOISTER_SO_ACCEPTCONN): self = .acceptsConnections
        case (CLOISTER_IPPROTO_TCP, CLOISTER_TCP_NODELAY): self = .noDelay
        default: throw Errno.noprotoopt.with(reason: "socket option \(name) at level \(level)")
        }
    }

    /// Options that are only read.
    var isReadOnly: Bool { self == .type || self == .error || self == .acceptsConnections }
}

/// What a receive took: its result (the bytes stored in the guest's buffers, or with
/// `MSG_TRUNC` on a datagram socket the datagram's whole length), whether the datagram was cut
/// short, and the sender where the socket knows it (datagrams).
struct Received {
    var count: Int
    var truncated: Bool
    var sender: SocketAddress?
}

/// A socket description: what the socket calls of the `cloister` module and WASI's `sock_*`
/// calls act on. Reads and writes of the descriptor (`fd_read`, `fd_write`) are receives and
/// sends without flags; readiness and waits are the description's, as for every file.
///
/// `waits` is false for an `O_NONBLOCK` descriptor or `MSG_DONTWAIT`: then a call that would
/// block answers `EAGAIN` (`EINPROGRESS` for a connect). A call that waits does so through
/// ``Blocking`` on the socket's ``FileDescription/waiterQueue``, so it ends with `EINTR` when
/// the calling guest's process is killed.
protocol Socket: FileDescription {
    var domain: SocketDomain { get }
    var kind: SocketKind { get }
    func bind(_ address: SocketAddress) throws(Errno)
    func listen(backlog: Int) throws(Errno)
    func accept(waits: Bool) throws(Errno) -> (socket: any Socket, peer: SocketAddress)
    func connect(_ address: SocketAddress, waits: Bool) throws(Errno)
    /// Sends the bytes of `buffers` (host iovecs over guest memory), to `destination` when given.
    func send(_ buffers: IOVectors, to destination: SocketAddress?, flags: MessageFlags, waits: Bool) throws(Errno) -> Int
    /// Receives into `buffers` (host iovecs over guest memory).
    func receive(into buffers: IOVectors, flags: MessageFlags, waits: Bool) throws(Errno) -> Received
    func shutdown(_ directions: ShutdownDirections) throws(Errno)
    func localAddress() throws(Errno) -> SocketAddress
    func peerAddress() throws(Errno) -> SocketAddress
    func option(_ option: SocketOption) throws(Errno) -> Int32
    func setOption(_ option: SocketOption, to value: Int32) throws(Errno)
}

extension Socket {
    var fileType: FileType { kind.fileType }

    func stat() throws(Errno) -> FileStat {
        FileStat(device: 0, inode: 0, type: kind.fileType, linkCount: 1, size: 0, accessTime: 0, modificationTime: 0, changeTime: 0)
    }

    /// `fd_read`: a receive without flags.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try IOVectors.single(buffer) { (vectors) throws(Errno) in try receive(into: vectors, flags: [], waits: true).count }
    }

    func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try IOVectors.single(buffer) { (vectors) throws(Errno) in try receive(into: vectors, flags: [], waits: false).count }
    }

    /// `fd_write`: a send without flags (so SIGPIPE on a broken stream, as write(2)).
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try IOVectors.single(UnsafeMutableRawBufferPointer(mutating: buffer)) { (vectors) throws(Errno) in
            try send(vectors, to: nil, flags: [], waits: true)
        }
    }
}
