import Foundation

/// A problem found while reading or validating an instance configuration (`Cloister.json`).
///
/// Every error carries the file it came from, the 1-based line and column of the offending
/// value (or of the enclosing object when a required key is missing, or of the key itself
/// for unknown and duplicate keys), the key path of the value (for example
/// `"resource_limits.user_space_size"` or `"mount[2].type"`; empty for JSON syntax errors),
/// and a human-readable message. Columns count Unicode scalars, so a tab or a multi-byte
/// UTF-8 character each count as one column.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The path of the configuration file, as given to the parser.
    public var file: String
    /// The 1-based line of the offending value; 0 when the error has no position (for example a missing file).
    public var line: Int
    /// The 1-based column of the offending value; 0 when the error has no position.
    public var column: Int
    /// The key path of the offending value, such as `"mount[2].type"`; empty when none applies.
    public var keyPath: String
    /// What is wrong, such as `expected a string, got a number`.
    public var message: String

    /// Creates an error from its parts.
    public init(file: String, line: Int, column: Int, keyPath: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.keyPath = keyPath
        self.message = message
    }

    /// `file:line:column: keyPath: message`. The key path part is left out when it is empty,
    /// and the `line:column` part when the error has no position (`line == 0`).
    public var description: String {
        var text = file
        if line > 0 {
            text += ":\(line):\(column)"
        }
        text += ": "
        if !keyPath.isEmpty {
            text += keyPath + ": "
        }
        return text + message
    }
}
