import CloisterAPI
import LibOS

/// What the operator lets functions reach over the network, and the one translation of a
/// function's declared network use (``FunctionNetwork``) into the LibOS's `network` rules.
///
/// A function declares what it needs; a task keeps a copy when it is created, every participant
/// approves that copy, and the worker hands exactly it to the function's sandbox, where every
/// other bind, connect, datagram and name lookup is `EACCES`. Over all of it sits the operator:
/// public destinations are allowed unless ``enabled`` is false (`--no-function-network`), while
/// loopback, private, link-local, shared and unspecified addresses are allowed only inside a
/// network the operator lists (`--allow-function-network CIDR`). So participants who agree
/// cannot open the platform's own host or its internal services to a function.
///
/// Registration checks a function against the policy of the server it reaches, and the worker
/// checks a task against its own before the run: with several processes on one database, the
/// narrower policy wins.
public struct FunctionNetworkPolicy: Sendable {
    /// Whether functions may have any network at all.
    public var enabled: Bool
    /// Networks inside the restricted ranges that functions may still be given.
    public var allowedNetworks: [IPNetwork]

    public init(enabled: Bool = true, allowedNetworks: [IPNetwork] = []) {
        self.enabled = enabled
        self.allowedNetworks = allowedNetworks
    }

    /// The most destinations, and the most listen addresses, a function may declare.
    static let maximumRules = 64

    /// The LibOS rules for `network`; a field error naming the first entry that is malformed or
    /// that the operator does not allow.
    func rules(for network: FunctionNetwork, field: String = "network") throws(PlatformError) -> NetworkConfig {
        if network.isEmpty { return .none }
        guard enabled else {
            throw .field(field, "functions on this platform have no network (its operator started it with --no-function-network)")
        }
        for (name, count) in [("connect", network.connect.count), ("listen", network.listen.count)] where count > Self.maximumRules {
            throw .field("\(field).\(name)", "more than \(Self.maximumRules) entries")
        }
        var config = NetworkConfig()
        for (index, destination) in network.connect.enumerated() {
            let path = "\(field).connect[\(index)]"
            guard let host = NetworkConfig.Host(parsing: destination.host) else {
                throw .field(
                    "\(path).host", "expected a network such as \"203.0.113.0/24\", an address, or a host name, got \(Validation.quoted(destination.host))")
            }
            if case .network(let address, let prefix) = host, host.opensRestrictedRange, !allows(address, prefix: prefix) {
                throw .field("\(path).host", Self.restricted(destination.host))
            }
            config.connect.append(.init(host: host, port: try Self.port(destination.port, field: "\(path).port")))
        }
        for (index, listen) in network.listen.enumerated() {
            let path = "\(field).listen[\(index)]"
            guard let address = IPAddress(parsing: listen.address) else {
                throw .field("\(path).address", "expected an IPv4 or IPv6 address such as \"0.0.0.0\", got \(Validation.quoted(listen.address))")
            }
            let rule = NetworkConfig.ListenRule(address: address, port: try Self.port(listen.port, field: "\(path).port"))
            if rule.isInRestrictedRange, !allows(address, prefix: address.bytes.count * 8) {
                throw .field("\(path).address", Self.restricted(listen.address))
            }
            config.listen.append(rule)
        }
        return config
    }

    /// Whether the network `address`/`prefix` lies inside one the operator allows.
    private func allows(_ address: IPAddress, prefix: Int) -> Bool {
        allowedNetworks.contains { prefix >= $0.prefixLength && $0.contains(address) }
    }

    private static func restricted(_ text: String) -> String {
        "\(Validation.quoted(text)) is in a loopback, private, link-local or unspecified range, which functions on this platform may not reach (its operator allows such networks with --allow-function-network)"
    }

    private static func port(_ port: Int, field: String) throws(PlatformError) -> UInt16 {
        guard let value = UInt16(exactly: port) else { throw .field(field, "expected a port from 0 (every port) to 65535, got \(port)") }
        return value
    }
}
