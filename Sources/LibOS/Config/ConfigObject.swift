import Foundation

/// A JSON object whose keys ``ConfigDecoder/object(_:path:required:optional:)`` has checked.
struct ConfigObject: Sendable {
    /// The object itself (for its position).
    let value: ConfigJSONValue
    /// The object's key path.
    let path: String
    /// The object's members by key.
    let members: [String: ConfigJSONMember]

    /// The value of a required key (present: the decoder checked it).
    subscript(key: String) -> ConfigJSONValue {
        guard let member = members[key] else {
            preconditionFailure("required key \(key) was not checked")
        }
        return member.value
    }

    /// The value of an optional key, if present.
    func optional(_ key: String) -> ConfigJSONValue? {
        members[key]?.value
    }

    /// The key path of `key` inside this object.
    func path(_ key: String) -> String {
        ConfigDecoder.child(path, key)
    }
}
