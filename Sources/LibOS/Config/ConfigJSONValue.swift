import Foundation

/// A JSON value read from a configuration file, with the 1-based position where it starts.
struct ConfigJSONValue: Sendable, Equatable {
    /// What the value is.
    enum Content: Sendable, Equatable {
        /// An object, with its members in document order.
        case object([ConfigJSONMember])
        /// An array.
        case array([ConfigJSONValue])
        /// A string, with escapes decoded.
        case string(String)
        /// A number, kept as its literal text (for example `"16"`, `"-1.5e3"`).
        case number(String)
        /// `true` or `false`.
        case bool(Bool)
        /// `null`.
        case null
    }

    /// What the value is.
    var content: Content
    /// The 1-based line of the value's first character.
    var line: Int
    /// The 1-based column (in Unicode scalars) of the value's first character.
    var column: Int

    /// The kind of the value with an article, as used in messages: "an object", "a number", …
    var kindDescription: String {
        switch content {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }
}
