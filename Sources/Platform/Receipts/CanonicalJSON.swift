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
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .integer(let value): out += Array(String(value).utf8)
        case .number(let value): out += Array(String(value).utf8)
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
            for (index, key) in members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeCanonical(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.writeCanonical(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func writeCanonical(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += Array("\\\"".utf8)
            case "\\": out += Array("\\\\".utf8)
            case "\u{8}": out += Array("\\b".utf8)
            case "\u{c}": out += Array("\\f".utf8)
            case "\n": out += Array("\\n".utf8)
            case "\r": out += Array("\\r".utf8)
            case "\t": out += Array("\\t".utf8)
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += Array(("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
            default: out += Array(String(scalar).utf8)
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
