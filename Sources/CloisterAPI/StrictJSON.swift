/// A checker of JSON text exactly as RFC 8259 defines it, plus one rule: no object has the same
/// key twice.
///
/// Foundation's parsers accept more than JSON — trailing commas (`[1,]`, `{"a":1,}`) and
/// duplicate keys, of which they keep one — so `{"id":"admin",…,"id":"bob"}` could mean
/// different things to a client and to the server. The API checks every body with this first;
/// the clients check what they read from files the same way.
public enum StrictJSON {
    /// Why a text is not strict JSON, and where.
    public struct Failure: Error, Equatable, CustomStringConvertible {
        /// What is wrong (`trailing comma before '}'`, `key "id" is given twice`).
        public let message: String
        /// The 1-based line and column (in bytes) where it was found.
        public let line: Int
        public let column: Int
        /// The key path of a key given twice (`inputs[0].name`), as a field name.
        public let field: String?

        public var description: String { "\(message) (line \(line), column \(column))" }
    }

    /// The deepest nesting of arrays and objects accepted.
    public static let maxDepth = 256

    /// Checks `bytes`; throws the first problem found.
    public static func validate(_ bytes: [UInt8]) throws(Failure) {
        var scanner = Scanner(bytes: bytes)
        guard String(validating: bytes, as: UTF8.self) != nil else { throw scanner.failure("the text is not UTF-8") }
        scanner.skipSpace()
        try scanner.value(path: "", depth: 0)
        scanner.skipSpace()
        guard scanner.atEnd else { throw scanner.failure("unexpected text after the JSON value") }
    }

    private struct Scanner {
        let bytes: [UInt8]
        var offset = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { offset >= bytes.count }
        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        func failure(_ message: String, at position: Int? = nil, field: String? = nil) -> Failure {
            let end = min(position ?? offset, bytes.count)
            var line = 1
            var lineStart = 0
            for index in 0..<end where bytes[index] == 0x0A {
                line += 1
                lineStart = index + 1
            }
            return Failure(message: message, line: line, column: end - lineStart + 1, field: field)
        }

        mutating func skipSpace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        func describe(_ byte: UInt8?) -> String {
            guard let byte else { return "the end of the text" }
            if byte >= 0x21, byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
            return "byte 0x" + String(byte, radix: 16)
        }

        mutating func value(path: String, depth: Int) throws(Failure) {
            switch current {
            case UInt8(ascii: "{"): try object(path: path, depth: depth + 1)
            case UInt8(ascii: "["): try array(path: path, depth: depth + 1)
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"): try literal("true")
            case UInt8(ascii: "f"): try literal("false")
            case UInt8(ascii: "n"): try literal("null")
            case let byte? where byte == UInt8(ascii: "-") || (byte >= 0x30 && byte <= 0x39): try number()
            default: throw failure("expected a value, found \(describe(current))")
            }
        }

        mutating func literal(_ word: String) throws(Failure) {
            let expected = Array(word.utf8)
            guard offset + expected.count <= bytes.count, Array(bytes[offset..<offset + expected.count]) == expected else {
                throw failure("expected a value, found \(describe(current))")
            }
            offset += expected.count
        }

        mutating func object(path: String, depth: Int) throws(Failure) {
            guard depth <= StrictJSON.maxDepth else { throw failure("nested deeper than \(StrictJSON.maxDepth) levels") }
            offset += 1
            skipSpace()
            if current == UInt8(ascii: "}") {
                offset += 1
                return
            }
            var keys = Set<String>()
            while true {
                guard current == UInt8(ascii: "\"") else {
                    throw failure(current == UInt8(ascii: "}") ? "trailing comma before '}'" : "expected a key in quotes, found \(describe(current))")
                }
                let start = offset
                let key = try string()
                let field = path.isEmpty ? key : path + "." + key
                guard keys.insert(key).inserted else {
                    throw failure("key \"\(key)\" is given twice in one object", at: start, field: field)
                }
                skipSpace()
                guard current == UInt8(ascii: ":") else { throw failure("expected ':' after a key, found \(describe(current))") }
                offset += 1
                skipSpace()
                try value(path: field, depth: depth)
                skipSpace()
                switch current {
                case UInt8(ascii: ","):
                    offset += 1
                    skipSpace()
                case UInt8(ascii: "}"):
                    offset += 1
                    return
                default:
                    throw failure("expected ',' or '}' in an object, found \(describe(current))")
                }
            }
        }

        mutating func array(path: String, depth: Int) throws(Failure) {
            guard depth <= StrictJSON.maxDepth else { throw failure("nested deeper than \(StrictJSON.maxDepth) levels") }
            offset += 1
            skipSpace()
            if current == UInt8(ascii: "]") {
                offset += 1
                return
            }
            var index = 0
            while true {
                if current == UInt8(ascii: "]") { throw failure("trailing comma before ']'") }
                try value(path: "\(path)[\(index)]", depth: depth)
                index += 1
                skipSpace()
                switch current {
                case UInt8(ascii: ","):
                    offset += 1
                    skipSpace()
                case UInt8(ascii: "]"):
                    offset += 1
                    return
                default:
                    throw failure("expected ',' or ']' in an array, found \(describe(current))")
                }
            }
        }

        /// A string; returns its value (escapes decoded) for comparing keys.
        mutating func string() throws(Failure) -> String {
            let start = offset
            offset += 1
            var scalars = String.UnicodeScalarView()
            var plainStart = offset
            func flush(_ end: Int) {
                scalars.append(contentsOf: String(decoding: bytes[plainStart..<end], as: UTF8.self).unicodeScalars)
            }
            while true {
                guard let byte = current else { throw failure("a string that never ends", at: start) }
                switch byte {
                case UInt8(ascii: "\""):
                    flush(offset)
                    offset += 1
                    return String(scalars)
                case UInt8(ascii: "\\"):
                    flush(offset)
                    offset += 1
                    scalars.append(try escape())
                    plainStart = offset
                case 0..<0x20:
                    throw failure("a control character inside a string (write it as \\u00\(byte < 0x10 ? "0" : "")\(String(byte, radix: 16)))")
                default:
                    offset += 1
                }
            }
        }

        mutating func escape() throws(Failure) -> Unicode.Scalar {
            guard let byte = current else { throw failure("a string that never ends") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{8}"
            case UInt8(ascii: "f"): return "\u{C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let first = try hex4()
                if (0xD800..<0xDC00).contains(first) {
                    guard current == UInt8(ascii: "\\"), offset + 1 < bytes.count, bytes[offset + 1] == UInt8(ascii: "u") else {
                        return "\u{FFFD}"
                    }
                    offset += 2
                    let second = try hex4()
                    guard (0xDC00..<0xE000).contains(second) else { return "\u{FFFD}" }
                    return Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)) ?? "\u{FFFD}"
                }
                return Unicode.Scalar(first) ?? "\u{FFFD}"
            default:
                throw failure("a bad escape \\\(describe(byte)) in a string", at: offset - 2)
            }
        }

        mutating func hex4() throws(Failure) -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current else { throw failure("a \\u escape needs four hex digits") }
                let digit: UInt32
                switch byte {
                case 0x30...0x39: digit = UInt32(byte - 0x30)
                case 0x41...0x46: digit = UInt32(byte - 0x41 + 10)
                case 0x61...0x66: digit = UInt32(byte - 0x61 + 10)
                default: throw failure("a \\u escape needs four hex digits")
                }
                value = value << 4 | digit
                offset += 1
            }
            return value
        }

        mutating func number() throws(Failure) {
            let start = offset
            func digits() -> Int {
                let first = offset
                while let byte = current, byte >= 0x30, byte <= 0x39 { offset += 1 }
                return offset - first
            }
            if current == UInt8(ascii: "-") { offset += 1 }
            if current == UInt8(ascii: "0") {
                offset += 1
                if let byte = current, byte >= 0x30, byte <= 0x39 { throw failure("a number with a leading zero", at: start) }
            } else if digits() == 0 {
                throw failure("a number needs digits", at: start)
            }
            if current == UInt8(ascii: ".") {
                offset += 1
                guard digits() > 0 else { throw failure("a number needs digits after '.'", at: start) }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                offset += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw failure("a number needs digits in its exponent", at: start) }
            }
        }
    }
}
