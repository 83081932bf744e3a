import Foundation

/// One `"key": value` member of a JSON object, with the position of its key.
struct ConfigJSONMember: Sendable, Equatable {
    /// The decoded key.
    var key: String
    /// The 1-based line of the key's opening quote.
    var line: Int
    /// The 1-based column of the key's opening quote.
    var column: Int
    /// The member's value.
    var value: ConfigJSONValue
}
