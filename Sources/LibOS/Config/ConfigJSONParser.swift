import Foundation

/// A strict JSON (RFC 8259) parser that records the line and column of every value and key.
///
/// Foundation's `JSONSerialization` reports no positions, so configuration errors could not
/// point at the offending text. This parser accepts exactly the JSON grammar (no comments,
/// no trailing commas, no single quotes), validates UTF-8, decodes every escape including
/// `\uXXXX` surrogate pairs, rejects duplicate keys, and stops at the first error with a
/// ``ConfigError`` at its exact position. A leading UTF-8 byte order mark is skipped.
struct ConfigJSONParser {
    /// The deepest nesting of objects and arrays accepted, so hostile input cannot exhaust the stack.
    static let maxDepth = 128

    private let bytes: [UInt8]
    private let file: String
    private var index = 0
    private var line = 1
    private var column = 1
    private var depth = 0

    private init(bytes: [UInt8], file: String) {
        self.bytes = bytes
        self.file = file
    }

    /// Parses one JSON document; `file` is used only in errors.
    static func parse(_ bytes: [UInt8], file: String) throws(ConfigError) -> ConfigJSONValue {
        var parser = ConfigJSONParser(bytes: bytes, file: file)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            parser.index = 3
        }
        parser.skipWhitespace()
        let value = try parser.parseValue(path: "")
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value")
        }
        return value
    }

    // MARK: - Values

    private mutating func parseValue(path: String) throws(ConfigError) -> ConfigJSONValue {
        let startLine = line
        let startColumn = column
        guard let byte = peek() else {
            throw error("unexpected end of input; expected a value")
        }
        let content: ConfigJSONValue.Content
        switch byte {
        case Self.openBrace:
            return try parseObject(path: path)
        case Self.openBracket:
            return try parseArray(path: path)
        case Self.quote:
            content = .string(try parseString())
        case Self.minus, Self.zero...Self.nine:
            content = .number(try parseNumber())
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            content = try parseLiteral()
        case UInt8(ascii: "'"):
            throw error("unexpected \"'\"; strings must be in double quotes")
        case Self.slash:
            throw error("unexpected '/'; comments are not allowed in JSON")
        default:
            var message = "unexpected \(describeCurrent()); expected a value"
            if Self.isLetter(byte) {
                message += " (strings must be in double quotes)"
            }
            throw error(message)
        }
        return ConfigJSONValue(content: content, line: startLine, column: startColumn)
    }

    private mutating func parseObject(path: String) throws(ConfigError) -> ConfigJSONValue {
        let startLine = line
        let startColumn = column
        try enterContainer()
        defer { depth -= 1 }
        advance()  // {
        var members: [ConfigJSONMember] = []
        var firstPosition: [String: (line: Int, column: Int)] = [:]
        skipWhitespace()
        if peek() == Self.closeBrace {
            advance()
            return ConfigJSONValue(content: .object(members), line: startLine, column: startColumn)
        }
        var commaPosition: (line: Int, column: Int)? = nil
        while true {
            skipWhitespace()
            guard peek() == Self.quote else {
                if peek() == Self.closeBrace, let comma = commaPosition {
                    throw error("trailing comma before '}'", line: comma.line, column: comma.column)
                }
                var message = "expected a string key, got \(describeCurrent())"
                if let byte = peek(), Self.isLetter(byte) {
                    message += " (keys must be in double quotes)"
                }
                throw error(message)
            }
            let keyLine = line
            let keyColumn = column
            let key = try parseString()
            let keyPath = path.isEmpty ? key : path + "." + key
            if let first = firstPosition[key] {
                throw error(
                    "duplicate key \(ConfigDecoder.quoted(key)) (first at line \(first.line), column \(first.column))",
                    line: keyLine, column: keyColumn, keyPath: keyPath)
            }
            firstPosition[key] = (keyLine, keyColumn)
            skipWhitespace()
            guard peek() == Self.colon else {
                throw error("expected ':' after key \(ConfigDecoder.quoted(key)), got \(describeCurrent())")
            }
            advance()
            skipWhitespace()
            let value = try parseValue(path: keyPath)
            members.append(ConfigJSONMember(key: key, line: keyLine, column: keyColumn, value: value))
            skipWhitespace()
            switch peek() {
            case Self.comma:
                commaPosition = (line, column)
                advance()
            case Self.closeBrace:
                advance()
                return ConfigJSONValue(content: .object(members), line: startLine, column: startColumn)
            default:
                throw error("expected ',' or '}', got \(describeCurrent())")
            }
        }
    }

    private mutating func parseArray(path: String) throws(ConfigError) -> ConfigJSONValue {
        let startLine = line
        let startColumn = column
        try enterContainer()
        defer { depth -= 1 }
        advance()  // [
        var elements: [ConfigJSONValue] = []
        skipWhitespace()
        if peek() == Self.closeBracket {
            advance()
            return ConfigJSONValue(content: .array(elements), line: startLine, column: startColumn)
        }
        var commaPosition: (line: Int, column: Int)? = nil
        while true {
            skipWhitespace()
            if peek() == Self.closeBracket, let comma = commaPosition {
                throw error("trailing comma before ']'", line: comma.line, column: comma.column)
            }
            elements.append(try parseValue(path: "\(path)[\(elements.count)]"))
            skipWhitespace()
            switch peek() {
            case Self.comma:
                commaPosition = (line, column)
                advance()
            case Self.closeBracket:
                advance()
                return ConfigJSONValue(content: .array(elements), line: startLine, column: startColumn)
            default:
                throw error("expected ',' or ']', got \(describeCurrent())")
            }
        }
    }

    private mutating func enterContainer() throws(ConfigError) {
        depth += 1
        if depth > Self.maxDepth {
            depth -= 1
            throw error("nesting too deep (more than \(Self.maxDepth) levels of objects and arrays)")
        }
    }

    private mutating func parseLiteral() throws(ConfigError) -> ConfigJSONValue.Content {
        for (text, content) in [("true", ConfigJSONValue.Content.bool(true)), ("false", .bool(false)), ("null", .null)] {
            let literal = Array(text.utf8)
            if bytes[index...].starts(with: literal) {
                let end = index + literal.count
                if end == bytes.count || !Self.isLetter(bytes[end]) && !Self.isDigit(bytes[end]) {
                    for _ in literal { advance() }
                    return content
                }
            }
        }
        throw error("invalid literal; expected true, false or null (strings must be in double quotes)")
    }

    /// Reads a number and returns its literal text.
    private mutating func parseNumber() throws(ConfigError) -> String {
        let start = index
        if peek() == Self.minus {
            advance()
        }
        guard let first = peek(), Self.isDigit(first) else {
            throw error("invalid number: expected a digit, got \(describeCurrent())")
        }
        advance()
        if first == Self.zero, let next = peek(), Self.isDigit(next) {
            throw error("invalid number: leading zeros are not allowed")
        }
        while let byte = peek(), Self.isDigit(byte) { advance() }
        if peek() == UInt8(ascii: ".") {
            advance()
            guard let byte = peek(), Self.isDigit(byte) else {
                throw error("invalid number: expected a digit after '.', got \(describeCurrent())")
            }
            while let byte = peek(), Self.isDigit(byte) { advance() }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            advance()
            if peek() == UInt8(ascii: "+") || peek() == Self.minus {
                advance()
            }
            guard let byte = peek(), Self.isDigit(byte) else {
                throw error("invalid number: expected a digit in the exponent, got \(describeCurrent())")
            }
            while let byte = peek(), Self.isDigit(byte) { advance() }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    // MARK: - Strings

    private mutating func parseString() throws(ConfigError) -> String {
        let startLine = line
        let startColumn = column
        advance()  // opening quote
        var out: [UInt8] = []
        while true {
            guard let byte = peek() else {
                throw error("unterminated string", line: startLine, column: startColumn)
            }
            switch byte {
            case Self.quote:
                advance()
                return String(decoding: out, as: UTF8.self)
            case Self.backslash:
                try parseEscape(into: &out)
            case 0x0A, 0x0D:
                throw error(
                    "unterminated string (a string cannot contain a line break; use \\n)",
                    line: startLine, column: startColumn)
            case 0x00..<0x20:
                throw error("unescaped control character \(Self.scalarName(UInt32(byte))) in string; use an escape such as \\t or \\u0000")
            case 0x80...:
                guard let length = Self.utf8SequenceLength(bytes, at: index) else {
                    throw error("invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: true)) in string")
                }
                for _ in 0..<length {
                    out.append(bytes[index])
                    advance()
                }
            default:
                out.append(byte)
                advance()
            }
        }
    }

    private mutating func parseEscape(into out: inout [UInt8]) throws(ConfigError) {
        let escapeLine = line
        let escapeColumn = column
        advance()  // backslash
        guard let byte = peek() else {
            throw error("unterminated string")
        }
        let simple: UInt8?
        switch byte {
        case Self.quote: simple = Self.quote
        case Self.backslash: simple = Self.backslash
        case Self.slash: simple = Self.slash
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"): simple = nil
        default:
            throw error(
                "invalid escape '\\\(describeScalarAtCurrent())' in string; valid escapes are \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX",
                line: escapeLine, column: escapeColumn)
        }
        advance()
        if let simple {
            out.append(simple)
            return
        }
        let unit = try readHex4(escapeLine: escapeLine, escapeColumn: escapeColumn)
        var scalarValue = unit
        if (0xD800...0xDBFF).contains(unit) {
            // A high surrogate must be followed at once by an escaped low surrogate.
            guard peek() == Self.backslash, index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                throw error(
                    "unpaired surrogate \\u\(Self.hex4(unit)); a high surrogate must be followed by a \\u escape of a low surrogate",
                    line: escapeLine, column: escapeColumn)
            }
            let lowLine = line
            let lowColumn = column
            advance()
            advance()
            let low = try readHex4(escapeLine: lowLine, escapeColumn: lowColumn)
            guard (0xDC00...0xDFFF).contains(low) else {
                throw error(
                    "unpaired surrogate \\u\(Self.hex4(unit)); it is followed by \\u\(Self.hex4(low)), which is not a low surrogate",
                    line: escapeLine, column: escapeColumn)
            }
            scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(unit) {
            throw error(
                "unpaired surrogate \\u\(Self.hex4(unit)); a low surrogate must follow a high surrogate",
                line: escapeLine, column: escapeColumn)
        }
        // Every value left is a valid scalar: surrogates were handled above.
        let scalar = Unicode.Scalar(scalarValue) ?? "\u{FFFD}"
        out.append(contentsOf: Array(String(Character(scalar)).utf8))
    }

    private mutating func readHex4(escapeLine: Int, escapeColumn: Int) throws(ConfigError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek(), let digit = Self.hexValue(byte) else {
                throw error("invalid \\u escape: expected 4 hex digits", line: escapeLine, column: escapeColumn)
            }
            value = value << 4 | digit
            advance()
        }
        return value
    }

    // MARK: - Scanning

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    /// Moves past one byte, keeping line and column current. UTF-8 continuation bytes do not
    /// advance the column, so columns count Unicode scalars.
    private mutating func advance() {
        let byte = bytes[index]
        index += 1
        if byte == 0x0A {
            line += 1
            column = 1
        } else if byte & 0xC0 != 0x80 {
            column += 1
        }
    }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            advance()
        }
    }

    private func error(_ message: String) -> ConfigError {
        error(message, line: line, column: column)
    }

    private func error(_ message: String, line: Int, column: Int, keyPath: String = "") -> ConfigError {
        ConfigError(file: file, line: line, column: column, keyPath: keyPath, message: message)
    }

    /// Describes the character at the current position for a message: `'x'`, `a line break`, `end of input`, …
    private func describeCurrent() -> String {
        guard let byte = peek() else {
            return "end of input"
        }
        switch byte {
        case 0x0A, 0x0D:
            return "a line break"
        case 0x20..<0x7F:
            return byte == UInt8(ascii: "'") ? "\"'\"" : "'\(Character(Unicode.Scalar(byte)))'"
        case 0x80...:
            guard Self.utf8SequenceLength(bytes, at: index) != nil else {
                return "invalid UTF-8 byte 0x\(String(byte, radix: 16, uppercase: true))"
            }
            return "'\(describeScalarAtCurrent())'"
        default:
            return Self.scalarName(UInt32(byte))
        }
    }

    /// The (valid or replaced) character at the current position, as text.
    private func describeScalarAtCurrent() -> String {
        guard let byte = peek() else { return "" }
        if byte < 0x20 || byte == 0x7F { return Self.scalarName(UInt32(byte)) }
        let length = Self.utf8SequenceLength(bytes, at: index) ?? 1
        return String(decoding: bytes[index..<index + length], as: UTF8.self)
    }

    // MARK: - Byte classes

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let slash = UInt8(ascii: "/")
    private static let openBrace = UInt8(ascii: "{")
    private static let closeBrace = UInt8(ascii: "}")
    private static let openBracket = UInt8(ascii: "[")
    private static let closeBracket = UInt8(ascii: "]")
    private static let colon = UInt8(ascii: ":")
    private static let comma = UInt8(ascii: ",")
    private static let minus = UInt8(ascii: "-")
    private static let zero = UInt8(ascii: "0")
    private static let nine = UInt8(ascii: "9")

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= zero && byte <= nine
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || byte == UInt8(ascii: "_")
    }

    private static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case zero...nine: return UInt32(byte - zero)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    private static func scalarName(_ value: UInt32) -> String {
        "U+" + hex4(value)
    }

    /// The length of the well-formed UTF-8 sequence starting at `index`, or `nil` if it is
    /// malformed (bad lead byte, missing continuation, overlong form, surrogate, or above U+10FFFF).
    private static func utf8SequenceLength(_ bytes: [UInt8], at index: Int) -> Int? {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default: return nil
        }
        guard index + length <= bytes.count, secondRange.contains(bytes[index + 1]) else {
            return nil
        }
        for offset in 2..<length where !(0x80...0xBF).contains(bytes[index + offset]) {
            return nil
        }
        return length
    }
}
