import Executors
import Foundation

/// Canonical JSON: the one encoding of a ``JSONValue`` that every receipt and audit entry is hashed
/// and signed over (docs/receipts.md, "Canonical JSON", specifies it byte for byte).
///
/// The encoding is RFC 8785 (JCS) for the values Cloister writes: objects with their keys sorted
/// by their UTF-8 bytes, no whitespace, strings in UTF-8 with only `"`, `\` and the control
/// characters escaped (`\b \f \n \r \t`, the others as `\u00xx` in lowercase hex), integers in
/// decimal, and no fractions: every number Cloister writes is an integer (times in milliseconds),
/// so no two encoders can disagree on how to print one. A verifier that parses a receipt and
/// encodes it again gets the bytes that were signed, whatever whitespace the file gained since.
extension JSONValue {
    /// The canonical encoding. (A `.number`, which ``parseCanonical(_:)`` refuses and Cloister
    /// never writes, is printed as Swift prints a `Double`: not canonical.)
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        writeCanonical(to: &out)
        return out
    }

    private func writeCanonical(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .integer(let value): out.append(contentsOf: String(value).utf8)
        case .number(let value): out.append(contentsOf: String(value).utf8)
        case .string(let value): Self.writeCanonical(value, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.writeCanonical(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeCanonical(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.writeCanonical(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// A string, byte by byte: only ASCII bytes are ever escaped, so every other byte of the UTF-8
    /// (a multi-byte character) is copied as it is.
    private static func writeCanonical(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 0x08: out.append(contentsOf: "\\b".utf8)
            case 0x0c: out.append(contentsOf: "\\f".utf8)
            case 0x0a: out.append(contentsOf: "\\n".utf8)
            case 0x0d: out.append(contentsOf: "\\r".utf8)
            case 0x09: out.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xf)])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// Parses JSON text (any whitespace); a number that is not an integer is refused.
    public static func parseCanonical(_ bytes: [UInt8]) throws(CanonicalJSONError) -> JSONValue {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(bytes))
        } catch {
            throw CanonicalJSONError("not valid JSON")
        }
        if let path = value.firstFraction(at: "") {
            throw CanonicalJSONError("at \(path.isEmpty ? "the top" : path): a number that is not an integer (receipts hold integers only)")
        }
        return value
    }

    /// Where the first `.number` is, if any.
    private func firstFraction(at path: String) -> String? {
        switch self {
        case .number: return path
        case .array(let values):
            for (index, value) in values.enumerated() {
                if let found = value.firstFraction(at: path + "[\(index)]") { return found }
            }
        case .object(let members):
            for key in members.keys.sorted() {
                if let found = members[key]!.firstFraction(at: path + "." + key) { return found }
            }
        default: break
        }
        return nil
    }

    /// The member `key` of an object (nil for anything else or a missing key).
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var integer: Int? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    /// `.string(value)`, or `.null` for nil.
    static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// Milliseconds since 1970, or `.null` for nil.
    static func time(_ date: Date?) -> JSONValue { date.map { .integer(Clock.milliseconds($0)) } ?? .null }
}

/// JSON that is not valid, or not of the canonical subset (a number with a fraction).
public struct CanonicalJSONError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
