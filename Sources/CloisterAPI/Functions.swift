import Foundation

/// An argument a function takes: its default and whether a task may set it.
public struct FunctionArgumentSpec: Codable, Sendable, Equatable {
    public var key: String
    /// The value a task gets when it does not set the argument (nil: no default).
    public var defaultValue: String?
    /// Whether a task may set the argument (a task sets exactly these; the rest keep their defaults).
    public var allowOverwrite: Bool
    public init(key: String, defaultValue: String? = nil, allowOverwrite: Bool = true) {
        self.key = key
        self.defaultValue = defaultValue
        self.allowOverwrite = allowOverwrite
    }

    private enum CodingKeys: String, CodingKey {
        case key, defaultValue, allowOverwrite
    }

    /// `allow_overwrite` may be left out (true).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        key = try container.decode(String.self, forKey: .key)
        defaultValue = try container.decodeIfPresent(String.self, forKey: .defaultValue)
        allowOverwrite = try container.decodeIfPresent(Bool.self, forKey: .allowOverwrite) ?? true
    }
}

/// An input or output file a function declares.
public struct FunctionFileSpec: Codable, Sendable, Equatable {
    public var name: String
    public var description: String?
    /// An optional file may be left out of a task.
    public var optional: Bool
    public init(name: String, description: String? = nil, optional: Bool = false) {
        self.name = name
        self.description = description
        self.optional = optional
    }

    private enum CodingKeys: String, CodingKey {
        case name, description, optional
    }

    /// `optional` may be left out (false).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        optional = try container.decodeIfPresent(Bool.self, forKey: .optional) ?? false
    }
}

/// A destination a function may connect to (or send datagrams to): `host` is a network in CIDR
/// form (`203.0.113.0/24`; an address alone is that address) or a DNS name, `port` 0 means every
/// port.
public struct NetworkDestination: Codable, Sendable, Equatable {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// An address and port a function may listen at (port 0: any port, the host's choice included).
public struct NetworkListenAddress: Codable, Sendable, Equatable {
    public var address: String
    public var port: Int
    public init(address: String, port: Int) {
        self.address = address
        self.port = port
    }
}

/// The network use a function declares: what it may connect to and where it may listen. A task
/// keeps a copy when it is created; every participant's approval covers that copy, and the
/// function runs with exactly it. Without one a function has no network at all.
public struct FunctionNetwork: Codable, Sendable, Equatable {
    public var connect: [NetworkDestination]
    public var listen: [NetworkListenAddress]
    public init(connect: [NetworkDestination] = [], listen: [NetworkListenAddress] = []) {
        self.connect = connect
        self.listen = listen
    }

    private enum CodingKeys: String, CodingKey {
        case connect, listen
    }

    /// Either list may be left out (empty).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        connect = try container.decodeIfPresent([NetworkDestination].self, forKey: .connect) ?? []
        listen = try container.decodeIfPresent([NetworkListenAddress].self, forKey: .listen) ?? []
    }

    /// Whether it declares nothing.
    public var isEmpty: Bool { connect.isEmpty && listen.isEmpty }

    /// One line for people: "connect 203.0.113.7/32:443, db.example.com:5432; listen none".
    public var summary: String {
        let connects = connect.map { "\($0.host):\($0.port)" }
        let listens = listen.map { "\($0.address):\($0.port)" }
        return "connect " + (connects.isEmpty ? "none" : connects.joined(separator: ", ")) + "; listen "
            + (listens.isEmpty ? "none" : listens.joined(separator: ", "))
    }
}

/// `POST /v1/functions`. `payload` is the code (a WebAssembly module, a Python script) in
/// base64; builtins have none and their `name` is the builtin's (`builtin-echo`, …).
public struct RegisterFunctionRequest: Codable, Sendable {
    public var name: String
    public var description: String?
    /// `builtin`, `python` or `wasm`.
    public var executorType: String
    public var payload: String?
    public var `public`: Bool?
    public var arguments: [FunctionArgumentSpec]?
    public var inputs: [FunctionFileSpec]?
    public var outputs: [FunctionFileSpec]?
    /// Users who may use a private function.
    public var userAllowlist: [String]?
    /// How many tasks of the function may be invoked in all (nil: no limit).
    public var usageQuota: Int?
    /// The network use it needs (wasm functions only; nil: none).
    public var network: FunctionNetwork?
    public init(
        name: String, description: String? = nil, executorType: String, payload: String? = nil, public: Bool? = nil,
        arguments: [FunctionArgumentSpec]? = nil, inputs: [FunctionFileSpec]? = nil, outputs: [FunctionFileSpec]? = nil,
        userAllowlist: [String]? = nil, usageQuota: Int? = nil, network: FunctionNetwork? = nil
    ) {
        self.name = name
        self.description = description
        self.executorType = executorType
        self.payload = payload
        self.public = `public`
        self.arguments = arguments
        self.inputs = inputs
        self.outputs = outputs
        self.userAllowlist = userAllowlist
        self.usageQuota = usageQuota
        self.network = network
    }
}

/// `PATCH /v1/functions/{id}`: every field given replaces the registered one.
public struct UpdateFunctionRequest: Codable, Sendable {
    public var name: String?
    public var description: String?
    public var payload: String?
    public var `public`: Bool?
    public var arguments: [FunctionArgumentSpec]?
    public var inputs: [FunctionFileSpec]?
    public var outputs: [FunctionFileSpec]?
    public var userAllowlist: [String]?
    public var usageQuota: Int?
    /// Replaces the network use (an empty object: none). Tasks created before keep theirs.
    public var network: FunctionNetwork?
    public init(
        name: String? = nil, description: String? = nil, payload: String? = nil, public: Bool? = nil,
        arguments: [FunctionArgumentSpec]? = nil, inputs: [FunctionFileSpec]? = nil, outputs: [FunctionFileSpec]? = nil,
        userAllowlist: [String]? = nil, usageQuota: Int? = nil, network: FunctionNetwork? = nil
    ) {
        self.name = name
        self.description = description
        self.payload = payload
        self.public = `public`
        self.arguments = arguments
        self.inputs = inputs
        self.outputs = outputs
        self.userAllowlist = userAllowlist
        self.usageQuota = usageQuota
        self.network = network
    }
}

/// A registered function. The payload itself is not returned; its size and SHA-256 are.
public struct Function: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String
    public var executorType: String
    public var payloadSize: Int
    public var payloadSha256: String
    public var `public`: Bool
    public var arguments: [FunctionArgumentSpec]
    public var inputs: [FunctionFileSpec]
    public var outputs: [FunctionFileSpec]
    public var userAllowlist: [String]
    public var usageQuota: Int?
    public var owner: String
    public var disabled: Bool
    public var createdAt: Date
    public var updatedAt: Date
    /// The network use it declares (absent: none).
    public var network: FunctionNetwork?
    public init(
        id: String, name: String, description: String, executorType: String, payloadSize: Int, payloadSha256: String,
        public: Bool, arguments: [FunctionArgumentSpec], inputs: [FunctionFileSpec], outputs: [FunctionFileSpec],
        userAllowlist: [String], usageQuota: Int?, owner: String, disabled: Bool, createdAt: Date, updatedAt: Date,
        network: FunctionNetwork? = nil
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.executorType = executorType
        self.payloadSize = payloadSize
        self.payloadSha256 = payloadSha256
        self.public = `public`
        self.arguments = arguments
        self.inputs = inputs
        self.outputs = outputs
        self.userAllowlist = userAllowlist
        self.usageQuota = usageQuota
        self.owner = owner
        self.disabled = disabled
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.network = network
    }
}

/// `GET /v1/functions`: the caller's own functions, public ones and those that allow it.
public struct FunctionList: Codable, Sendable {
    public var functions: [Function]
    public init(functions: [Function]) {
        self.functions = functions
    }
}

/// `GET /v1/functions/{id}/usage`.
public struct FunctionUsage: Codable, Sendable, Equatable {
    public var functionId: String
    /// Tasks invoked so far (what the quota counts).
    public var invocations: Int
    public var usageQuota: Int?
    /// Invocations left under the quota (nil: no quota).
    public var remaining: Int?
    /// Tasks of the function by state.
    public var tasksByState: [String: Int]
    public init(functionId: String, invocations: Int, usageQuota: Int?, remaining: Int?, tasksByState: [String: Int]) {
        self.functionId = functionId
        self.invocations = invocations
        self.usageQuota = usageQuota
        self.remaining = remaining
        self.tasksByState = tasksByState
    }
}
