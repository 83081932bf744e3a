import Foundation

/// A JSON value with one encoding: the bytes every receipt and audit entry is hashed and signed
/// over (docs/receipts.md, "Canonical JSON", specifies it byte for byte).
///
/// The encoding is RFC 8785 (JCS) for the values Cloister writes: objects with their keys sorted
/// by their UTF-8 bytes, no whitespace, strings in UTF-8 with only `"`, `\` and the control
/// characters escaped (`\b \f \n \r \t`, the others as `\u00xx` in lowercase hex), integers in
/// decimal, and no fractions: every number Cloister writes is an integer (times in milliseconds),
/// so no two encoders can disagree on how to print one. A verifier that parses a receipt and
/// encodes it again gets the bytes that were signed, whatever whitespace the file gained since.
public indirect enum CanonicalJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case string(String)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    /// The canonical encoding.
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    private func write(to out: inout [UInt8]) {
        switch self {
        case .null: out += Array("null".utf8)
        case .bool(let value): out += Array((value ? "true" : "false").utf8)
        case .integer(let value): out += Array(String(value).utf8)
        case .string(let value): Self.write(value, to: &out)
        case .array(let values):
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                value.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }).enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.write(key, to: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    private static func write(_ text: String, to out: inout [UInt8]) {
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
    public static func parse(_ bytes: [UInt8]) throws(CanonicalJSONError) -> CanonicalJSON {
        do {
            return try JSONDecoder().decode(CanonicalJSON.self, from: Data(bytes))
        } catch let error as DecodingError {
            switch error {
            case .dataCorrupted(let context) where context.codingPath.isEmpty:
                throw CanonicalJSONError("not valid JSON")
            case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
                let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? "." + $0.stringValue }.joined()
                throw CanonicalJSONError("at \(path.isEmpty ? "the top" : path): \(context.debugDescription)")
            @unknown default:
                throw CanonicalJSONError("not valid JSON")
            }
        } catch {
            throw CanonicalJSONError("not valid JSON")
        }
    }

    /// The member `key` of an object (nil for anything else or a missing key).
    public subscript(key: String) -> CanonicalJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var string: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var integer: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    public var array: [CanonicalJSON]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// `.string(value)`, or `.null` for nil.
    static func string(_ value: String?) -> CanonicalJSON { value.map { .string($0) } ?? .null }

    /// Milliseconds since 1970, or `.null` for nil.
    static func time(_ date: Date?) -> CanonicalJSON { date.map { .integer(Int64(Clock.milliseconds($0))) } ?? .null }
}

extension CanonicalJSON: Decodable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([CanonicalJSON].self) {
            self = .array(value)
        } else if let value = try? container.decode([String: CanonicalJSON].self) {
            self = .object(value)
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "a number that is not an integer (receipts hold integers only)")
        }
    }
}

/// JSON that is not valid, or not of the canonical subset (a number with a fraction).
public struct CanonicalJSONError: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}
