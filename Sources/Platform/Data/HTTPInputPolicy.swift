import Foundation

/// An IPv4 or IPv6 network, `address/prefix` (a bare address is the network of that address alone).
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// 4 bytes (IPv4) or 16 (IPv6).
    let bytes: [UInt8]
    let prefixLength: Int

    /// Parses `10.0.0.0/8`, `::1/128`, `127.0.0.1`; nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let bytes = IPAddress.parse(String(parts[0])) else { return nil }
        let bits = bytes.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...bits).contains(length), parts[1].allSatisfy(\.isASCII) else { return nil }
            prefixLength = length
        } else {
            prefixLength = bits
        }
        self.bytes = bytes
    }

    /// Whether `address` (4 or 16 bytes) lies in this network.
    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == bytes.count else { return false }
        var remaining = prefixLength
        for index in 0..<bytes.count where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address[index] & mask != bytes[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    public var description: String { IPAddress.format(bytes) + "/\(prefixLength)" }
}

/// IP addresses as bytes: parsed and printed with inet_pton/inet_ntop.
enum IPAddress {
    static func parse(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func format(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        return bytes.withUnsafeBytes { raw in
            inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) != nil ? String(cString: buffer) : "?"
        }
    }

    /// An IPv4 address embedded in an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as 4 bytes;
    /// any other address as it is.
    static func unmapped(_ bytes: [UInt8]) -> [UInt8] {
        if bytes.count == 16, bytes[0..<10].allSatisfy({ $0 == 0 }), bytes[10] == 0xFF, bytes[11] == 0xFF { return Array(bytes[12...]) }
        return bytes
    }
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
    func refusal(of address: [UInt8]) -> String? {
        let plain = IPAddress.unmapped(address)
        if allowedNetworks.contains(where: { $0.contains(plain) || $0.contains(address) }) { return nil }
        if let special = Self.specialRanges.first(where: { $0.network.contains(plain) }) { return special.name }
        return allowPublic ? nil : "not on the operator's list"
    }

    /// The addresses of `host` (a name or an IP literal), from the system resolver; blocks.
    static func resolve(_ host: String) -> [[UInt8]] {
        let literal = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if let address = IPAddress.parse(literal) { return [address] }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(literal, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [[UInt8]] = []
        var next = list
        while let entry = next?.pointee {
            if let raw = entry.ai_addr {
                if entry.ai_family == AF_INET {
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                } else if entry.ai_family == AF_INET6 {
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var address = pointer.pointee.sin6_addr
                        addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                    }
                }
            }
            next = entry.ai_next
        }
        var seen = Set<[UInt8]>()
        return addresses.filter { seen.insert($0).inserted }
    }
}
