import Foundation
import LibOS

/// An IPv4 or IPv6 network, `address/prefix` (a bare address is the network of that address alone).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    let address: IPAddress
    let prefixLength: Int

    /// Parses `10.0.0.0/8`, `::1/128`, `127.0.0.1`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(parsing: String(parts[0])) else { return nil }
        let bits = address.bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isASCII) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.address = address
    }

    /// Whether `address` lies in this network (an address of the other family never does).
    func contains(_ address: IPAddress) -> Bool { address.isWithin(self.address, prefix: prefixLength) }

    public var description: String { "\(address)/\(prefixLength)" }
}

/// Where workers may download http(s) inputs from: the operator's allow-list.
///
/// By default any public address, and none in the ranges that reach the platform's own host or
/// its private networks (loopback, private, link-local — cloud metadata services live there —,
/// carrier-grade NAT, unique-local, multicast, reserved): an input URL must not turn a worker into
/// a way to reach internal services. The operator may allow networks explicitly
/// (`allowedNetworks`, `cloister serve --allow-input-network CIDR`), even inside those ranges, and
/// may refuse public addresses (`allowPublic`) to keep downloads to the listed networks.
public struct HTTPInputPolicy: Sendable {
    /// Networks downloads may come from, whatever range they are in.
    public var allowedNetworks: [IPNetwork] = []
    /// Whether addresses outside the special ranges are allowed besides `allowedNetworks`.
    public var allowPublic = true

    public init(allowedNetworks: [IPNetwork] = [], allowPublic: Bool = true) {
        self.allowedNetworks = allowedNetworks
        self.allowPublic = allowPublic
    }

    /// The ranges refused unless allowed explicitly, with what they are.
    static let specialRanges: [(network: IPNetwork, name: String)] = [
        ("0.0.0.0/8", "this-host"), ("10.0.0.0/8", "private"), ("100.64.0.0/10", "carrier-grade NAT"),
        ("127.0.0.0/8", "loopback"), ("169.254.0.0/16", "link-local"), ("172.16.0.0/12", "private"),
        ("192.0.0.0/24", "IETF protocol"), ("192.0.2.0/24", "documentation"), ("192.88.99.0/24", "relay"),
        ("192.168.0.0/16", "private"), ("198.18.0.0/15", "benchmarking"), ("198.51.100.0/24", "documentation"),
        ("203.0.113.0/24", "documentation"), ("224.0.0.0/4", "multicast"), ("240.0.0.0/4", "reserved"),
        ("::/128", "unspecified"), ("::1/128", "loopback"), ("::ffff:0:0/96", "IPv4-mapped"), ("64:ff9b::/96", "NAT64"),
        ("64:ff9b:1::/48", "NAT64"), ("100::/64", "discard"), ("2001::/23", "IETF protocol"), ("2001:db8::/32", "documentation"),
        ("2002::/16", "6to4"), ("fc00::/7", "unique-local"), ("fe80::/10", "link-local"), ("fec0::/10", "site-local"),
        ("ff00::/8", "multicast"),
    ].map { (IPNetwork($0.0)!, $0.1) }

    /// Why `address` may not be fetched from (the kind of range), or nil when it may.
    func refusal(of address: IPAddress) -> String? {
        let plain = address.unmapped
        if allowedNetworks.contains(where: { $0.contains(plain) || $0.contains(address) }) { return nil }
        if let special = Self.specialRanges.first(where: { $0.network.contains(plain) }) { return special.name }
        return allowPublic ? nil : "not on the operator's list"
    }

    /// The addresses of `host` (a name or an IP literal), from the system resolver; blocks.
    static func resolve(_ host: String) -> [IPAddress] {
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let address = IPAddress(parsing: literal) { return [address] }
        return (try? IPAddress.lookUp(literal)) ?? []
    }
}
