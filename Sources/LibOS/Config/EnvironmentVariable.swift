import Foundation

/// One environment variable, written `NAME=value` in `Cloister.json` and in a guest's environment.
public struct EnvironmentVariable: Sendable, Hashable, CustomStringConvertible {
    /// The name: ASCII letters, digits and `_`, not starting with a digit.
    public var name: String
    /// The value: any text without a NUL character (it may contain `=`).
    public var value: String

    /// Creates a variable; no validation (see ``isValidName(_:)``).
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Parses `NAME=value`, splitting at the first `=`. Returns `nil` when there is no `=`,
    /// the name is not valid (``isValidName(_:)``) or the value contains NUL.
    public init?(parsing entry: String) {
        guard let equals = entry.firstIndex(of: "=") else { return nil }
        let name = String(entry[..<equals])
        let value = String(entry[entry.index(after: equals)...])
        guard Self.isValidName(name), !value.contains("\0") else { return nil }
        self.init(name: name, value: value)
    }

    /// Whether `name` is a portable environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
    public static func isValidName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !(first.value >= 0x30 && first.value <= 0x39) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_": return true
            default: return false
            }
        }
    }

    /// `NAME=value`.
    public var description: String {
        name + "=" + value
    }
}
