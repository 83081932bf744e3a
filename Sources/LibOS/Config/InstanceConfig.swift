import Foundation

/// An instance's configuration: the `Cloister.json` file in its instance folder.
///
/// Every key is required (except a mount's `source` and `options`) and every value is
/// validated; an unknown key, a wrong type or an invalid value is a ``ConfigError`` naming
/// the file, the line and column, and the key path. `cloister new` writes ``defaultJSON``.
public struct InstanceConfig: Sendable, Equatable {
    /// `"resource_limits"`: limits for the whole instance.
    public var resourceLimits: ResourceLimits
    /// `"process"`: per-process defaults.
    public var process: ProcessDefaults
    /// `"entry_points"`: absolute guest path prefixes (such as `"/bin"`) whose programs may be started.
    public var entryPoints: [String]
    /// `"env"`: the environment of guest processes.
    public var environment: EnvironmentConfig
    /// `"mount"`: the file systems, in the order written.
    public var mounts: [MountConfig]
    /// `"metadata"."debuggable"`: whether the instance may log and be inspected; a release instance (`false`) logs nothing.
    public var debuggable: Bool
    /// `"engine"` (optional): `"wasmtime"` or `"wasmkit"`; absent, wasmtime when its library
    /// loads (see ``Kernel/init(instanceDirectory:config:logLevel:logSink:engine:)``).
    public var engine: EngineKind?
    /// `"network"` (optional): what guests may reach on the host's network; absent, nothing.
    public var network: NetworkConfig

    /// Creates a configuration; no validation.
    public init(
        resourceLimits: ResourceLimits, process: ProcessDefaults, entryPoints: [String],
        environment: EnvironmentConfig, mounts: [MountConfig], debuggable: Bool, engine: EngineKind? = nil,
        network: NetworkConfig = .none
    ) {
        self.engine = engine
        self.network = network
        self.resourceLimits = resourceLimits
        self.process = process
        self.entryPoints = entryPoints
        self.environment = environment
        self.mounts = mounts
        self.debuggable = debuggable
    }

    /// The configuration file's name inside an instance folder.
    public static let fileName = "Cloister.json"

    /// The top-level JSON keys, in documentation order.
    static let keys = ["resource_limits", "process", "entry_points", "env", "mount", "metadata"]
    /// The top-level keys that may be left out.
    static let optionalKeys = ["engine", "network"]

    /// Whether a program at `path` may be started: `path` must be a normalized absolute guest
    /// path (no `.` or `..` components) equal to or beneath one of ``entryPoints``, by whole
    /// components (`/bin` allows `/bin/sh`, not `/binaries/sh`). Pass the resolved path.
    public func allowsEntryPoint(_ path: String) -> Bool {
        entryPoints.contains { ConfigPaths.path(path, isWithin: $0) }
    }

    /// The mount whose target is `path`, if any.
    public func mount(at path: String) -> MountConfig? {
        mounts.first { $0.target == path }
    }

    // MARK: - Parsing

    /// Parses and validates `Cloister.json` text; `file` names it in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> InstanceConfig {
        let root = try ConfigJSONParser.parse(bytes, file: file)
        return try InstanceConfig(decoding: root, with: ConfigDecoder(file: file))
    }

    /// Parses and validates `Cloister.json` data; `file` names it in errors.
    public static func parse(_ data: Data, file: String) throws(ConfigError) -> InstanceConfig {
        try parse([UInt8](data), file: file)
    }

    /// Parses and validates `Cloister.json` text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> InstanceConfig {
        try parse(Array(text.utf8), file: file)
    }

    /// Reads and validates `<instanceDirectory>/Cloister.json`. A missing or unreadable file
    /// is a ``ConfigError`` whose `file` is that path (with line and column 0).
    public static func load(instanceDirectory: String) throws(ConfigError) -> InstanceConfig {
        let path = instanceDirectory.hasSuffix("/") ? instanceDirectory + fileName : instanceDirectory + "/" + fileName
        func failure(_ message: String) -> ConfigError {
            ConfigError(file: path, line: 0, column: 0, keyPath: "", message: message)
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            var message = "no such file"
            if !FileManager.default.fileExists(atPath: instanceDirectory) {
                message += " (the instance folder \(ConfigDecoder.quoted(instanceDirectory)) does not exist)"
            }
            throw failure(message + "; `cloister new` creates an instance folder with a default " + fileName)
        }
        guard !isDirectory.boolValue else {
            throw failure("is a directory, not a file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw failure("cannot read the file: \(error.localizedDescription)")
        }
        return try parse(data, file: path)
    }

    /// The documented default configuration (``defaultJSON``), parsed.
    public static var `default`: InstanceConfig {
        do {
            return try parse(defaultJSON, file: "<default \(fileName)>")
        } catch {
            fatalError("the built-in default \(fileName) is invalid: \(error)")
        }
    }

    /// Decodes and validates the whole configuration.
    init(decoding value: ConfigJSONValue, with decoder: ConfigDecoder) throws(ConfigError) {
        let object = try decoder.object(value, path: "", required: Self.keys, optional: Self.optionalKeys)

        let limits = try ResourceLimits(
            decoding: object["resource_limits"], path: object.path("resource_limits"), with: decoder)
        let process = try ProcessDefaults(
            decoding: object["process"], path: object.path("process"), userSpaceSize: limits.userSpaceSize,
            with: decoder)

        var entryPoints: [String] = []
        let entryPath = object.path("entry_points")
        let entryElements = try decoder.array(object["entry_points"], path: entryPath)
        guard !entryElements.isEmpty else {
            throw decoder.error(
                "list at least one guest path prefix (such as \"/bin\"); with none, no program could start",
                at: object["entry_points"], path: entryPath)
        }
        for (index, element) in entryElements.enumerated() {
            let elementPath = ConfigDecoder.element(entryPath, index)
            let entry = try decoder.absolutePath(element, path: elementPath, what: "entry point")
            if let first = entryPoints.firstIndex(of: entry) {
                throw decoder.error(
                    "duplicate entry point \(ConfigDecoder.quoted(entry)) (already listed at \(ConfigDecoder.element(entryPath, first)))",
                    at: element, path: elementPath)
            }
            entryPoints.append(entry)
        }

        let environment = try EnvironmentConfig(decoding: object["env"], path: object.path("env"), with: decoder)

        var mounts: [MountConfig] = []
        let mountPath = object.path("mount")
        for (index, element) in try decoder.array(object["mount"], path: mountPath).enumerated() {
            let elementPath = ConfigDecoder.element(mountPath, index)
            let mount = try MountConfig(decoding: element, path: elementPath, with: decoder)
            if let first = mounts.firstIndex(where: { $0.target == mount.target }) {
                let targetPath = ConfigDecoder.child(elementPath, "target")
                let targetValue = try decoder.object(
                    element, path: elementPath, required: MountConfig.requiredKeys, optional: MountConfig.optionalKeys
                )["target"]
                throw decoder.error(
                    "duplicate mount target \(ConfigDecoder.quoted(mount.target)) (already mounted by \(ConfigDecoder.element(mountPath, first)))",
                    at: targetValue, path: targetPath)
            }
            mounts.append(mount)
        }
        guard mounts.contains(where: { $0.target == "/" }) else {
            throw decoder.error(
                "no mount for \"/\"; the root file system must be mounted (for example {\"target\": \"/\", \"type\": \"ramfs\"})",
                at: object["mount"], path: mountPath)
        }

        let metadata = try decoder.object(object["metadata"], path: object.path("metadata"), required: ["debuggable"])
        let debuggable = try decoder.bool(metadata["debuggable"], path: metadata.path("debuggable"))

        var engine: EngineKind?
        if let value = object.optional("engine") {
            let name = try decoder.string(value, path: object.path("engine"))
            guard let kind = EngineKind(rawValue: name) else {
                throw decoder.error(
                    "unknown engine \(ConfigDecoder.quoted(name)); expected one of: \(EngineKind.allCases.map(\.rawValue).joined(separator: ", "))",
                    at: value, path: object.path("engine"))
            }
            engine = kind
        }

        var network = NetworkConfig.none
        if let value = object.optional("network") {
            network = try NetworkConfig(decoding: value, path: object.path("network"), with: decoder)
        }

        self.init(
            resourceLimits: limits, process: process, entryPoints: entryPoints, environment: environment,
            mounts: mounts, debuggable: debuggable, engine: engine, network: network)
    }
}
