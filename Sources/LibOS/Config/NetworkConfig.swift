/// The `"network"` object of `Cloister.json`: what a guest may reach over the host's network.
/// Absent, nothing: every bind, listen, connect, send to an address and name lookup on an
/// AF_INET/AF_INET6 socket is `EACCES` (AF_UNIX sockets stay inside the instance and need no rule).
///
/// ```json
/// "network": {
///   "listen": [{ "address": "127.0.0.1", "port": 0 }],
///   "connect": [{ "host": "10.1.0.0/16", "port": 5432 }, { "host": "db.example.com", "port": 443 }]
/// }
/// ```
public struct NetworkConfig: Sendable, Equatable {
    /// May bind (and listen, or receive datagrams) at `address`:`port`; port 0 allows every
    /// port, the host's choice included. The address is matched exactly: `0.0.0.0` (every
    /// interface) must be listed itself.
    public struct ListenRule: Sendable, Equatable {
        public var address: IPAddress
        public var port: UInt16
        public init(address: IPAddress, port: UInt16) {
            self.address = address
            self.port = port
        }

        /// Whether `address` is loopback, private, link-local, shared or unspecified.
        public var isInRestrictedRange: Bool { NetworkPolicy.isRestricted(address) }
    }

    /// A destination: a network in CIDR form (an address alone is a /32 or /128), or a DNS name.
    public enum Host: Sendable, Equatable, CustomStringConvertible {
        case network(IPAddress, prefix: Int)
        case name(String)

        public var description: String {
            switch self {
            case .network(let address, let prefix): return "\(address)/\(prefix)"
            case .name(let name): return name
            }
        }

        /// Whether the rule opens loopback, private, link-local, shared or unspecified
        /// addresses: a network that lies inside one of those ranges. A wider network or a name
        /// never reaches them (see `NetworkPolicy`).
        public var opensRestrictedRange: Bool {
            if case .network(let address, let prefix) = self { return NetworkPolicy.liesInRestrictedRange(address, prefix: prefix) }
            return false
        }

        /// `text` as a CIDR network, an address, or a DNS name (letters, digits, `-` in labels of
        /// 1 to 63 bytes, at most 253 bytes; compared without case); nil when it is none of them.
        public init?(parsing text: String) {
            let parts = text.split(separator: "/", omittingEmptySubsequences: false)
            if parts.count == 2 {
                guard let address = IPAddress(parsing: String(parts[0])), let prefix = Int(parts[1]), prefix >= 0,
                    prefix <= address.bytes.count * 8, !parts[1].hasPrefix("+")
                else { return nil }
                self = .network(address, prefix: prefix)
                return
            }
            if let address = IPAddress(parsing: text) {
                self = .network(address, prefix: address.bytes.count * 8)
                return
            }
            let name = text.lowercased()
            let labels = name.split(separator: ".", omittingEmptySubsequences: false)
            guard name.utf8.count <= 253, !labels.isEmpty, !(labels.last!.allSatisfy(\.isNumber)) else { return nil }
            for label in labels {
                guard (1...63).contains(label.utf8.count), !label.hasPrefix("-"), !label.hasSuffix("-"),
                    label.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
                else { return nil }
            }
            self = .name(name)
        }
    }

    /// May connect (or send datagrams) to `host`:`port`; port 0 allows every port.
    public struct ConnectRule: Sendable, Equatable {
        public var host: Host
        public var port: UInt16
        public init(host: Host, port: UInt16) {
            self.host = host
            self.port = port
        }
    }

    public var listen: [ListenRule]
    public var connect: [ConnectRule]

    public init(listen: [ListenRule] = [], connect: [ConnectRule] = []) {
        self.listen = listen
        self.connect = connect
    }

    /// No network at all: the default.
    public static let none = NetworkConfig()

    static let keys = ["listen", "connect"]

    /// Decodes and validates `"network"`.
    init(decoding value: ConfigJSONValue, path: String, with decoder: ConfigDecoder) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.keys)
        var listen: [ListenRule] = []
        for (index, element) in try decoder.array(object["listen"], path: object.path("listen")).enumerated() {
            let elementPath = ConfigDecoder.element(object.path("listen"), index)
            let rule = try decoder.object(element, path: elementPath, required: ["address", "port"])
            let text = try decoder.string(rule["address"], path: rule.path("address"))
            guard let address = IPAddress(parsing: text) else {
                throw decoder.error(
                    "expected an IPv4 or IPv6 address such as \"127.0.0.1\", got \(ConfigDecoder.quoted(text))",
                    at: rule["address"], path: rule.path("address"))
            }
            listen.append(ListenRule(address: address, port: try Self.port(rule["port"], path: rule.path("port"), with: decoder)))
        }
        var connect: [ConnectRule] = []
        for (index, element) in try decoder.array(object["connect"], path: object.path("connect")).enumerated() {
            let elementPath = ConfigDecoder.element(object.path("connect"), index)
            let rule = try decoder.object(element, path: elementPath, required: ["host", "port"])
            let text = try decoder.string(rule["host"], path: rule.path("host"))
            guard let host = Host(parsing: text) else {
                throw decoder.error(
                    "expected a network such as \"10.0.0.0/8\", an address, or a host name, got \(ConfigDecoder.quoted(text))",
                    at: rule["host"], path: rule.path("host"))
            }
            connect.append(ConnectRule(host: host, port: try Self.port(rule["port"], path: rule.path("port"), with: decoder)))
        }
        self.init(listen: listen, connect: connect)
    }

    /// A port: an integer from 0 (every port) to 65535.
    private static func port(_ value: ConfigJSONValue, path: String, with decoder: ConfigDecoder) throws(ConfigError) -> UInt16 {
        guard case .number(let literal) = value.content, let number = UInt16(literal) else {
            throw decoder.error("expected a port, an integer from 0 (every port) to 65535", at: value, path: path)
        }
        return number
    }
}
