import Foundation

/// Reads typed configuration values out of parsed JSON, turning every problem into a
/// ``ConfigError`` that names the key path and the position of the offending value.
struct ConfigDecoder: Sendable {
    /// The configuration file's path, used in errors.
    let file: String

    /// An error at the position of `value`.
    func error(_ message: String, at value: ConfigJSONValue, path: String) -> ConfigError {
        ConfigError(file: file, line: value.line, column: value.column, keyPath: path, message: message)
    }

    /// The key path of `key` inside the object at `path`.
    static func child(_ path: String, _ key: String) -> String {
        path.isEmpty ? key : path + "." + key
    }

    /// The key path of element `index` of the array at `path`.
    static func element(_ path: String, _ index: Int) -> String {
        "\(path)[\(index)]"
    }

    /// `text` in double quotes, with quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16, uppercase: true)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Requires an object whose keys are all in `required` or `optional` and which has every
    /// key in `required`. Unknown keys are reported first (at the key), then missing ones (at the object).
    func object(
        _ value: ConfigJSONValue, path: String, required: [String], optional: [String] = []
    ) throws(ConfigError) -> ConfigObject {
        guard case .object(let members) = value.content else {
            throw error("expected an object, got \(value.kindDescription)", at: value, path: path)
        }
        let allowed = required + optional
        var byKey: [String: ConfigJSONMember] = [:]
        for member in members {
            guard allowed.contains(member.key) else {
                let expected = allowed.isEmpty ? "this object takes no keys" : "expected one of: " + allowed.joined(separator: ", ")
                throw ConfigError(
                    file: file, line: member.line, column: member.column, keyPath: Self.child(path, member.key),
                    message: "unknown key \(Self.quoted(member.key)); \(expected)")
            }
            byKey[member.key] = member
        }
        for key in required where byKey[key] == nil {
            throw error("missing required key \(Self.quoted(key))", at: value, path: Self.child(path, key))
        }
        return ConfigObject(value: value, path: path, members: byKey)
    }

    /// Requires an array and returns its elements.
    func array(_ value: ConfigJSONValue, path: String) throws(ConfigError) -> [ConfigJSONValue] {
        guard case .array(let elements) = value.content else {
            throw error("expected an array, got \(value.kindDescription)", at: value, path: path)
        }
        return elements
    }

    /// Requires a string.
    func string(_ value: ConfigJSONValue, path: String) throws(ConfigError) -> String {
        guard case .string(let text) = value.content else {
            throw error("expected a string, got \(value.kindDescription)", at: value, path: path)
        }
        return text
    }

    /// Requires `true` or `false`.
    func bool(_ value: ConfigJSONValue, path: String) throws(ConfigError) -> Bool {
        guard case .bool(let flag) = value.content else {
            throw error("expected a boolean (true or false), got \(value.kindDescription)", at: value, path: path)
        }
        return flag
    }

    /// Requires an integer literal (no fraction or exponent) greater than zero.
    func positiveInteger(_ value: ConfigJSONValue, path: String) throws(ConfigError) -> Int {
        guard case .number(let literal) = value.content else {
            throw error("expected an integer, got \(value.kindDescription)", at: value, path: path)
        }
        guard !literal.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else {
            throw error("expected an integer, got \(literal)", at: value, path: path)
        }
        if literal.hasPrefix("-") || literal == "0" {
            throw error("must be a positive integer, got \(literal)", at: value, path: path)
        }
        guard let number = Int(literal) else {
            throw error("integer \(literal) is out of range", at: value, path: path)
        }
        return number
    }

    /// Requires a size string such as `"32MB"` (see ``ByteSize``) greater than zero.
    func size(_ value: ConfigJSONValue, path: String) throws(ConfigError) -> UInt64 {
        let example = "expected a size like \"32MB\""
        switch value.content {
        case .string(let text):
            guard let bytes = ByteSize.parse(text) else {
                throw error("\(example), got \(Self.quoted(text))", at: value, path: path)
            }
            guard bytes > 0 else {
                throw error("size must be greater than zero, got \(Self.quoted(text))", at: value, path: path)
            }
            return bytes
        case .number(let literal):
            throw error("\(example), got the number \(literal) (sizes are strings)", at: value, path: path)
        default:
            throw error("\(example), got \(value.kindDescription)", at: value, path: path)
        }
    }

    /// Requires a duration string such as `"30s"` (see ``DurationText``) greater than zero, or
    /// `null` (no limit: `nil`) when `allowsNull`.
    func duration(_ value: ConfigJSONValue, path: String, allowsNull: Bool) throws(ConfigError) -> UInt64? {
        let example = "expected a duration like \"30s\" or \"500ms\"" + (allowsNull ? " or null" : "")
        switch value.content {
        case .null where allowsNull:
            return nil
        case .string(let text):
            guard let nanoseconds = DurationText.parse(text) else {
                throw error("\(example), got \(Self.quoted(text))", at: value, path: path)
            }
            guard nanoseconds > 0 else {
                throw error("duration must be greater than zero, got \(Self.quoted(text))", at: value, path: path)
            }
            return nanoseconds
        default:
            throw error("\(example), got \(value.kindDescription)", at: value, path: path)
        }
    }

    /// Requires a string that is a normalized absolute guest path (see ``ConfigPaths``).
    func absolutePath(_ value: ConfigJSONValue, path: String, what: String) throws(ConfigError) -> String {
        let text = try string(value, path: path)
        guard text.hasPrefix("/") else {
            throw error("\(what) must be an absolute path like \"/data\", got \(Self.quoted(text))", at: value, path: path)
        }
        guard ConfigPaths.isNormalizedAbsolute(text) else {
            throw error(
                "\(what) must be a normalized absolute path (no \".\" or \"..\" components, no repeated or trailing \"/\", no NUL), got \(Self.quoted(text))",
                at: value, path: path)
        }
        return text
    }
}
