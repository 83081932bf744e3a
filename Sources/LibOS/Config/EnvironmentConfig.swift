import Foundation

/// The `"env"` section of `Cloister.json`: which environment a guest process gets.
public struct EnvironmentConfig: Sendable, Equatable {
    /// `"default"`: variables every process starts with, written `"NAME=value"`.
    public var defaults: [EnvironmentVariable]
    /// `"untrusted"`: the names a caller (for example `cloister run --env`) may set or override.
    public var untrusted: [String]

    /// Creates an environment configuration.
    public init(defaults: [EnvironmentVariable], untrusted: [String]) {
        self.defaults = defaults
        self.untrusted = untrusted
    }

    /// The environment of a new process, as `"NAME=value"` strings.
    ///
    /// Starts from ``defaults``; each caller entry `"NAME=value"` whose `NAME` is listed in
    /// ``untrusted`` sets or overrides that variable (the last one wins); every other caller
    /// entry, and every malformed one, is dropped. The result lists the defaults in their
    /// order first, then the added untrusted variables in the caller's order.
    public func merged(with callerEnvironment: [String]) -> [String] {
        var result = defaults
        var indexByName: [String: Int] = [:]
        for (index, variable) in result.enumerated() where indexByName[variable.name] == nil {
            indexByName[variable.name] = index
        }
        let allowed = Set(untrusted)
        for entry in callerEnvironment {
            guard let variable = EnvironmentVariable(parsing: entry), allowed.contains(variable.name) else {
                continue
            }
            if let index = indexByName[variable.name] {
                result[index].value = variable.value
            } else {
                indexByName[variable.name] = result.count
                result.append(variable)
            }
        }
        return result.map(\.description)
    }

    /// The JSON keys, in documentation order.
    static let keys = ["default", "untrusted"]

    /// Decodes and validates the section.
    init(decoding value: ConfigJSONValue, path: String, with decoder: ConfigDecoder) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.keys)
        let nameRule = "names use ASCII letters, digits and '_' and do not start with a digit"

        var defaults: [EnvironmentVariable] = []
        var firstDefault: [String: String] = [:]
        let defaultPath = object.path("default")
        for (index, element) in try decoder.array(object["default"], path: defaultPath).enumerated() {
            let elementPath = ConfigDecoder.element(defaultPath, index)
            let entry = try decoder.string(element, path: elementPath)
            guard let equals = entry.firstIndex(of: "=") else {
                throw decoder.error(
                    "expected \"NAME=value\", got \(ConfigDecoder.quoted(entry))", at: element, path: elementPath)
            }
            let name = String(entry[..<equals])
            guard EnvironmentVariable.isValidName(name) else {
                throw decoder.error(
                    "invalid environment variable name \(ConfigDecoder.quoted(name)); \(nameRule)",
                    at: element, path: elementPath)
            }
            guard let variable = EnvironmentVariable(parsing: entry) else {
                throw decoder.error("the value of \(name) contains a NUL character", at: element, path: elementPath)
            }
            if let first = firstDefault[name] {
                throw decoder.error(
                    "duplicate variable \(ConfigDecoder.quoted(name)) (already set by \(first))", at: element, path: elementPath)
            }
            firstDefault[name] = elementPath
            defaults.append(variable)
        }

        var untrusted: [String] = []
        var firstUntrusted: [String: String] = [:]
        let untrustedPath = object.path("untrusted")
        for (index, element) in try decoder.array(object["untrusted"], path: untrustedPath).enumerated() {
            let elementPath = ConfigDecoder.element(untrustedPath, index)
            let name = try decoder.string(element, path: elementPath)
            guard EnvironmentVariable.isValidName(name) else {
                throw decoder.error(
                    "invalid environment variable name \(ConfigDecoder.quoted(name)); \(nameRule)",
                    at: element, path: elementPath)
            }
            if let first = firstUntrusted[name] {
                throw decoder.error(
                    "duplicate name \(ConfigDecoder.quoted(name)) (already listed at \(first))", at: element, path: elementPath)
            }
            firstUntrusted[name] = elementPath
            untrusted.append(name)
        }
        self.defaults = defaults
        self.untrusted = untrusted
    }
}
