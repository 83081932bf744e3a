#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The instance's `network` rules (``NetworkConfig``), checked before every host socket call
/// that picks an address: bind and listen against `listen`, connect and sends to an address
/// against `connect`, name lookups against the names in `connect`. A refusal is `EACCES` with a
/// reason, and is logged (warn) with the calling process.
///
/// **Restricted ranges.** Loopback, private, link-local, shared (CGN) and unspecified addresses
/// are reached only through a `connect` rule whose network lies inside such a range itself
/// (`127.0.0.1/32`, `10.0.0.0/8`): `0.0.0.0/0` does not cover them, and neither does a name,
/// so a public name that resolves to a private address (DNS rebinding) opens nothing.
final class NetworkPolicy: Sendable {
    let config: NetworkConfig
    private let log: KernelLog
    /// What was refused so far (the first ``maximumRefusalsKept``), for whoever runs the instance
    /// to explain a failure: the platform names them in a failed task's reason.
    private let refused = Mutex<[NetworkRefusal]>([])

    /// How many refusals ``refusals`` keeps.
    static let maximumRefusalsKept = 16

    init(_ config: NetworkConfig, log: KernelLog) {
        self.config = config
        self.log = log
    }

    /// The refusals so far, oldest first.
    var refusals: [NetworkRefusal] { refused.withLock { $0 } }

    /// Refuses with a logged `EACCES`, and keeps what was refused.
    private func refuse(_ what: String) -> Errno {
        let reason = "\(what): not allowed by the instance's network rules"
        log.log(.warn, "net: \(reason)", pid: GuestThread.current?.process.pid ?? 0)
        refused.withLock { list in
            if list.count < Self.maximumRefusalsKept, !list.contains(NetworkRefusal(what: what)) { list.append(NetworkRefusal(what: what)) }
        }
        return Errno.acces.with(reason: reason)
    }

    /// May a socket bind at `address` (and listen or receive there)?
    func checkListen(_ address: SocketAddress) throws(Errno) {
        guard case .ip(let ip, let port, _, _) = address else { return }
        let allowed = config.listen.contains { $0.address == ip && ($0.port == 0 || $0.port == port) }
        if !allowed { throw refuse("listening at \(address)") }
    }

    /// May a socket connect (or send a datagram) to `address`?
    func checkConnect(_ address: SocketAddress) throws(Errno) {
        if !allowsConnect(to: address) { throw refuse("connecting to \(address)") }
    }

    /// Whether a `connect` rule covers `address` (an AF_UNIX address needs none); nothing is
    /// logged. Also what a datagram socket the guest did not bind receives from.
    func allowsConnect(to address: SocketAddress) -> Bool {
        guard case .ip(let raw, let port, _, _) = address else { return true }
        let ip = raw.unmapped
        let restricted = Self.isRestricted(ip)
        for rule in config.connect where rule.port == 0 || rule.port == port {
            switch rule.host {
            case .network(let network, let prefix):
                guard ip.isWithin(network, prefix: prefix) else { continue }
                if !restricted || Self.liesInRestrictedRange(network, prefix: prefix) { return true }
            case .name(let name):
                if !restricted, (try? IPAddress.lookUp(name))?.contains(ip) == true { return true }
            }
        }
        return false
    }

    /// The addresses of `name` with `port`, when a `connect` rule names it (an address literal
    /// is answered as itself, without a lookup). Any other name is refused without asking the
    /// host's resolver, so a lookup cannot carry data out either.
    func resolve(_ name: String, port: UInt16) throws(Errno) -> [SocketAddress] {
        if let literal = IPAddress(parsing: name) { return [.ip(literal, port: port)] }
        let wanted = name.lowercased().hasSuffix(".") ? String(name.lowercased().dropLast()) : name.lowercased()
        let listed = config.connect.contains { rule in
            if case .name(let allowed) = rule.host { return allowed == wanted && (rule.port == 0 || rule.port == port) }
            return false
        }
        guard listed else { throw refuse("looking up \(name)") }
        return try IPAddress.lookUp(wanted).map { .ip($0, port: port) }
    }

    /// Loopback, private, link-local, shared and unspecified ranges (IPv4 and IPv6).
    private static let restrictedRanges: [(IPAddress, Int)] = [
        ("0.0.0.0", 8), ("10.0.0.0", 8), ("100.64.0.0", 10), ("127.0.0.0", 8), ("169.254.0.0", 16),
        ("172.16.0.0", 12), ("192.168.0.0", 16), ("::", 128), ("::1", 128), ("fc00::", 7), ("fe80::", 10),
    ].map { (IPAddress(parsing: $0.0)!, $0.1) }

    static func isRestricted(_ address: IPAddress) -> Bool {
        restrictedRanges.contains { address.isWithin($0.0, prefix: $0.1) }
    }

    /// Whether the whole network `address`/`prefix` lies inside one restricted range.
    static func liesInRestrictedRange(_ address: IPAddress, prefix: Int) -> Bool {
        restrictedRanges.contains { prefix >= $0.1 && address.isWithin($0.0, prefix: $0.1) }
    }
}

extension IPAddress {
    /// The host resolver's addresses for `name` (`getaddrinfo`), without duplicates.
    public static func lookUp(_ name: String) throws(Errno) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(name, nil, &hints, &list)
        guard status == 0 else {
            throw Errno.noent.with(reason: "cannot resolve \(name): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry {
            if let address = current.pointee.ai_addr {
                var storage = sockaddr_storage()
                withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(current.pointee.ai_addrlen))) }
                if case .ip(let ip, _, _, _)? = SocketAddress(host: storage), !addresses.contains(ip) { addresses.append(ip) }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }
}

/// One host socket call the `network` rules refused: what it tried, in words
/// ("connecting to 10.0.0.5:443", "looking up example.com").
public struct NetworkRefusal: Sendable, Hashable, CustomStringConvertible {
    public let what: String
    public var description: String { what }
}
