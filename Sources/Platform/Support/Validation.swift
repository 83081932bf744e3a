import Foundation

/// Checks on the fields of requests, each failing with the field's name.
enum Validation {
    /// 1–64 ASCII letters, digits, `_`, `.`, `@` or `-`: user ids and role attributes.
    static func isIdentifier(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 64
            && text.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x5F || byte == 0x2E || byte == 0x2D || byte == 0x40
            }
    }

    static func identifier(_ text: String, field: String) throws(PlatformError) {
        guard isIdentifier(text) else {
            throw .field(field, "must be 1 to 64 letters, digits, '_', '.', '@' or '-', got \(quoted(text))")
        }
    }

    /// Non-empty text of at most `limit` bytes with no control characters.
    static func text(_ text: String, field: String, limit: Int, allowEmpty: Bool = false) throws(PlatformError) {
        if !allowEmpty, text.isEmpty { throw .field(field, "must not be empty") }
        guard text.utf8.count <= limit else { throw .field(field, "longer than \(limit) bytes") }
        if text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) {
            throw .field(field, "contains control characters")
        }
    }

    /// The longest password: bcrypt reads no more than 72 bytes.
    static let maxPasswordBytes = 72

    /// A password: 8 to 72 bytes, no NUL (bcrypt would ignore what follows either).
    static func password(_ text: String, field: String) throws(PlatformError) {
        guard text.utf8.count >= 8 else { throw .field(field, "must be at least 8 bytes") }
        guard text.utf8.count <= maxPasswordBytes else {
            throw .field(field, "longer than \(maxPasswordBytes) bytes (bcrypt would ignore the rest)")
        }
        guard !text.utf8.contains(0) else { throw .field(field, "contains a NUL byte") }
    }

    /// Whether bcrypt would read all of `text` (at most 72 bytes, no NUL).
    static func isAcceptablePassword(_ text: String) -> Bool {
        text.utf8.count <= maxPasswordBytes && !text.utf8.contains(0)
    }

    /// Lower-case or upper-case hex bytes.
    static func hex(_ text: String, field: String) throws(PlatformError) -> [UInt8] {
        guard text.utf8.count % 2 == 0, text.utf8.count <= 1024 else { throw .field(field, "must be an even number of hex digits") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count / 2)
        var high: UInt8?
        for byte in text.utf8 {
            let value: UInt8
            switch byte {
            case 0x30...0x39: value = byte - 0x30
            case 0x41...0x46: value = byte - 0x41 + 10
            case 0x61...0x66: value = byte - 0x61 + 10
            default: throw .field(field, "must be hex digits")
            }
            if let first = high {
                bytes.append(first << 4 | value)
                high = nil
            } else {
                high = value
            }
        }
        return bytes
    }

    /// Text shown in a message: quoted, cut at 80 characters.
    static func quoted(_ text: String) -> String {
        let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
        return "\"" + shown.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
