import CCloisterABI

#if canImport(Glibc)
import Glibc
#endif

/// An IPv4 or IPv6 address: 4 or 16 bytes in network order.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    /// An address from its 4 (IPv4) or 16 (IPv6) bytes; nil for any other count.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    /// Parses a literal (`"127.0.0.1"`, `"::1"`) with the host's `inet_pton`; nil when it is none.
    public init?(parsing text: String) {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: &v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: &v6) { Array($0) }
            return
        }
        return nil
    }

    public var isV4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for, else self.
    public var unmapped: IPAddress {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xff, bytes[11] == 0xff {
            return IPAddress(bytes: Array(bytes[12...]))!
        }
        return self
    }

    /// Whether the first `prefix` bits equal those of `network` (same family).
    public func isWithin(_ network: IPAddress, prefix: Int) -> Bool {
        guard network.bytes.count == bytes.count else { return false }
        var remaining = prefix
        for index in 0..<bytes.count where remaining > 0 {
            let bits = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xff << (8 - bits))
            if bytes[index] & mask != network.bytes[index] & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        var copy = bytes
        _ = inet_ntop(isV4 ? AF_INET : AF_INET6, &copy, &text, socklen_t(text.count))
        return String(cString: text)
    }
}

/// A socket address as the kernel sees it: an IP address and port, or an AF_UNIX name.
public enum SocketAddress: Hashable, Sendable, CustomStringConvertible {
    case ip(IPAddress, port: UInt16, flowInfo: UInt32 = 0, scopeID: UInt32 = 0)
    /// An AF_UNIX name, in the instance's own namespace (not a file of its VFS).
    case unix(String)

    public var description: String {
        switch self {
        case .ip(let address, let port, _, _): return address.isV4 ? "\(address):\(port)" : "[\(address)]:\(port)"
        case .unix(let name): return "unix:\(name)"
        }
    }

    /// The guest's `struct cloister_sockaddr` at `address` in `memory`, decoded and checked:
    /// `EFAULT` outside memory, `EAFNOSUPPORT` for another family, `EINVAL` for a bad length.
    static func load(from address: UInt32, in memory: any UserMemory) throws(Errno) -> SocketAddress {
        let size = UInt32(MemoryLayout<cloister_sockaddr>.size)
        let raw = try memory.withBytes(at: address, count: size) { $0.loadUnaligned(as: cloister_sockaddr.self) }
        return try SocketAddress(raw)
    }

    init(_ raw: cloister_sockaddr) throws(Errno) {
        var raw = raw
        let addr = withUnsafeBytes(of: &raw.addr) { Array($0) }
        switch Int32(raw.family) {
        case CLOISTER_AF_INET:
            self = .ip(IPAddress(bytes: Array(addr[0..<4]))!, port: raw.port)
        case CLOISTER_AF_INET6:
            self = .ip(IPAddress(bytes: addr)!, port: raw.port, flowInfo: raw.flowinfo, scopeID: raw.scope_id)
        case CLOISTER_AF_UNIX:
            let length = Int(raw.path_len)
            guard length >= 1, length <= Int(CLOISTER_UNIX_PATH_MAX) else {
                throw Errno.inval.with(reason: "an AF_UNIX name of \(length) bytes (1 to \(CLOISTER_UNIX_PATH_MAX))")
            }
            let bytes = withUnsafeBytes(of: &raw.path) { Array($0[0..<length]) }
            guard !bytes.contains(0), let name = String(validating: bytes, as: UTF8.self) else {
                throw Errno.inval.with(reason: "an AF_UNIX name must be UTF-8 without NUL")
            }
            self = .unix(name)
        default:
            throw Errno.afnosupport.with(reason: "address family \(raw.family)")
        }
    }

    /// The guest's layout of this address.
    var raw: cloister_sockaddr {
        var raw = cloister_sockaddr()
        switch self {
        case .ip(let address, let port, let flowInfo, let scopeID):
            raw.family = UInt16(address.isV4 ? CLOISTER_AF_INET : CLOISTER_AF_INET6)
            raw.port = port
            raw.flowinfo = flowInfo
            raw.scope_id = scopeID
            withUnsafeMutableBytes(of: &raw.addr) { $0.copyBytes(from: address.bytes) }
        case .unix(let name):
            raw.family = UInt16(CLOISTER_AF_UNIX)
            let bytes = Array(name.utf8)
            raw.path_len = UInt32(bytes.count)
            withUnsafeMutableBytes(of: &raw.path) { $0.copyBytes(from: bytes) }
        }
        return raw
    }

    /// Stores this address as a `struct cloister_sockaddr` at `address` (`EFAULT` outside memory).
    func store(at address: UInt32, in memory: any UserMemory) throws(Errno) {
        let raw = self.raw
        try memory.withBytes(at: address, count: UInt32(MemoryLayout<cloister_sockaddr>.size)) { $0.storeBytes(of: raw, as: cloister_sockaddr.self) }
    }

    // MARK: Host sockaddr

    /// Calls `body` with this (IP) address as a host `sockaddr` and its length.
    func withHostAddress<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> T) throws(Errno) -> T {
        guard case .ip(let address, let port, let flowInfo, let scopeID) = self else { throw .afnosupport }
        var storage = sockaddr_storage()
        let length: Int
        if address.isV4 {
            var v4 = sockaddr_in()
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = port.bigEndian
            withUnsafeMutableBytes(of: &v4.sin_addr) { $0.copyBytes(from: address.bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: v4, as: sockaddr_in.self) }
            length = MemoryLayout<sockaddr_in>.size
        } else {
            var v6 = sockaddr_in6()
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = port.bigEndian
            v6.sin6_flowinfo = flowInfo.bigEndian
            v6.sin6_scope_id = scopeID
            withUnsafeMutableBytes(of: &v6.sin6_addr) { $0.copyBytes(from: address.bytes) }
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: v6, as: sockaddr_in6.self) }
            length = MemoryLayout<sockaddr_in6>.size
        }
        var result: Result<T, Errno>!
        withUnsafePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                do throws(Errno) { result = .success(try body(address, socklen_t(length))) } catch { result = .failure(error) }
            }
        }
        return try result.get()
    }

    /// The IP address in a host `sockaddr_storage`; nil for another family.
    init?(host storage: sockaddr_storage) {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            let v4 = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in.self) }
            var addr = v4.sin_addr
            self = .ip(IPAddress(bytes: withUnsafeBytes(of: &addr) { Array($0) })!, port: UInt16(bigEndian: v4.sin_port))
        case AF_INET6:
            let v6 = withUnsafeBytes(of: &storage) { $0.loadUnaligned(as: sockaddr_in6.self) }
            var addr = v6.sin6_addr
            self = .ip(
                IPAddress(bytes: withUnsafeBytes(of: &addr) { Array($0) })!, port: UInt16(bigEndian: v6.sin6_port),
                flowInfo: UInt32(bigEndian: v6.sin6_flowinfo), scopeID: v6.sin6_scope_id)
        default:
            return nil
        }
    }
}
