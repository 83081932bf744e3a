import Foundation

/// A function's arguments: one JSON object, as given to `create_task`.
///
/// The typed accessors throw `ExecutorError`s that name the argument. Like Teaclave, whose
/// arguments are all strings, they also accept a number or a boolean written as a JSON string
/// (`"alg_iters": "100"` is the integer 100).
public struct FunctionArguments: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    /// The arguments by name.
    public let values: [String: JSONValue]

    /// Arguments from a dictionary.
    public init(_ values: [String: JSONValue] = [:]) {
        self.values = values
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    /// Parses a JSON object; empty text (or only whitespace) means no arguments.
    public init(json: String) throws(ExecutorError) {
        try self.init(json: Data(json.utf8))
    }

    /// Parses a JSON object from UTF-8 bytes; empty text (or only whitespace) means no arguments.
    public init(json: Data) throws(ExecutorError) {
        if json.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) {
            self.init()
            return
        }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: json)
        } catch {
            throw .badArguments("not valid JSON")
        }
        guard case .object(let values) = value else { throw .badArguments("got \(value.jsonText)") }
        self.init(values)
    }

    /// The argument `name`, if given.
    public subscript(name: String) -> JSONValue? { values[name] }

    /// The argument names, sorted.
    public var names: [String] { values.keys.sorted() }

    /// The arguments as a flat command line, sorted by name: `[k1, v1, k2, v2, …]`; a string value
    /// is itself, any other value its JSON text (`7`, `true`, `[1,2]`).
    public var argv: [String] {
        names.flatMap { name -> [String] in
            switch values[name]! {
            case .string(let text): return [name, text]
            case let value: return [name, value.jsonText]
            }
        }
    }

    /// The arguments as compact JSON text, keys sorted.
    public var jsonText: String { JSONValue.object(values).jsonText }

    /// A string argument.
    public func string(_ name: String) throws(ExecutorError) -> String {
        let value = try required(name)
        guard case .string(let text) = value else { throw mistyped(name, "a string", value) }
        return text
    }

    /// A string argument that must be one of the names of `choices`; the value paired with it.
    public func choice<Value>(_ name: String, from choices: [(name: String, value: Value)]) throws(ExecutorError) -> Value {
        let text = try string(name)
        guard let chosen = choices.first(where: { $0.name == text }) else {
            let valid = choices.map { JSONValue.string($0.name).jsonText }.joined(separator: ", ")
            throw .invalidArgument(name: name, reason: "must be one of \(valid), got \(JSONValue.string(text).jsonText)")
        }
        return chosen.value
    }

    /// An integer argument (a JSON integer, or a string holding one) within `range`.
    public func integer(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(ExecutorError) -> Int {
        let value = try required(name)
        let parsed: Int?
        switch value {
        case .integer(let number): parsed = number
        case .number(let number): parsed = Int(exactly: number)
        case .string(let text): parsed = Int(text.trimmingCharacters(in: .whitespaces))
        default: parsed = nil
        }
        guard let number = parsed else { throw mistyped(name, "an integer", value) }
        guard range.contains(number) else {
            let bounds = range.upperBound == Int.max
                ? "at least \(range.lowerBound)" : "between \(range.lowerBound) and \(range.upperBound)"
            throw .invalidArgument(name: name, reason: "must be \(bounds), got \(number)")
        }
        return number
    }

    /// A finite number argument (a JSON number, or a string holding one) greater than `lowerBound`
    /// and at most `upperBound`.
    public func double(
        _ name: String, greaterThan lowerBound: Double = -.infinity, atMost upperBound: Double = .infinity
    ) throws(ExecutorError) -> Double {
        let value = try required(name)
        let parsed: Double?
        switch value {
        case .integer(let number): parsed = Double(number)
        case .number(let number): parsed = number
        case .string(let text): parsed = Double(text.trimmingCharacters(in: .whitespaces))
        default: parsed = nil
        }
        guard let number = parsed, number.isFinite else { throw mistyped(name, "a number", value) }
        guard number > lowerBound, number <= upperBound else {
            var bounds: [String] = []
            if lowerBound > -.infinity { bounds.append("greater than \(Self.format(lowerBound))") }
            if upperBound < .infinity { bounds.append("at most \(Self.format(upperBound))") }
            throw .invalidArgument(name: name, reason: "must be \(bounds.joined(separator: " and ")), got \(Self.format(number))")
        }
        return number
    }

    /// A boolean argument (a JSON boolean, or the string "true" or "false").
    public func bool(_ name: String) throws(ExecutorError) -> Bool {
        let value = try required(name)
        switch value {
        case .bool(let flag): return flag
        case .string("true"): return true
        case .string("false"): return false
        default: throw mistyped(name, "true or false", value)
        }
    }

    private func required(_ name: String) throws(ExecutorError) -> JSONValue {
        guard let value = values[name] else { throw .missingArgument(name) }
        return value
    }

    private func mistyped(_ name: String, _ expected: String, _ value: JSONValue) -> ExecutorError {
        .mistypedArgument(name: name, expected: expected, found: value.jsonText)
    }

    /// `1` rather than `1.0` for integral bounds and values in messages.
    private static func format(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }
}
