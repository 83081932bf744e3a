import Foundation
import Testing
@testable import Executors

@Suite struct ArgumentsTests {
    @Test func parsesJSONKeepingIntegersNumbersAndBooleansApart() throws {
        let arguments = try FunctionArguments(json: #"{"a": 7, "b": 0.5, "c": true, "d": "x", "e": null, "f": [1, "2"], "g": {"k": 1}, "h": 1}"#)
        #expect(arguments["a"] == .integer(7))
        #expect(arguments["b"] == .number(0.5))
        #expect(arguments["c"] == .bool(true))
        #expect(arguments["d"] == .string("x"))
        #expect(arguments["e"] == .null)
        #expect(arguments["f"] == .array([.integer(1), .string("2")]))
        #expect(arguments["g"] == .object(["k": .integer(1)]))
        #expect(arguments["h"] == .integer(1))
        #expect(arguments.names == ["a", "b", "c", "d", "e", "f", "g", "h"])
    }

    @Test func emptyTextIsNoArguments() throws {
        #expect(try FunctionArguments(json: "").values.isEmpty)
        #expect(try FunctionArguments(json: " \n").values.isEmpty)
    }

    @Test func rejectsWhatIsNotAnObject() {
        #expect(failure { try FunctionArguments(json: "[1, 2]") } == "function arguments must be a JSON object: got [1,2]")
        #expect(failure { try FunctionArguments(json: "{\"a\": ") } == "function arguments must be a JSON object: not valid JSON")
    }

    @Test func argvIsSortedKeyValuePairsWithJSONTextForNonStrings() throws {
        let arguments = try FunctionArguments(json: #"{"order": "ascending", "n": 2, "center": true, "ratio": 0.25, "list": [1, "a/b"], "map": {"z": 1, "a": null}}"#)
        #expect(arguments.argv == [
            "center", "true",
            "list", #"[1,"a/b"]"#,
            "map", #"{"a":null,"z":1}"#,
            "n", "2",
            "order", "ascending",
            "ratio", "0.25",
        ])
        #expect(FunctionArguments().argv == [])
    }

    @Test func typedAccessorsAcceptNumbersWrittenAsStrings() throws {
        let arguments: FunctionArguments = ["iters": "100", "alpha": "0.3", "whole": 2.0, "flag": "false", "count": 4]
        #expect(try arguments.integer("iters") == 100)
        #expect(try arguments.integer("whole") == 2)
        #expect(try arguments.integer("count") == 4)
        #expect(try arguments.double("alpha") == 0.3)
        #expect(try arguments.double("count") == 4)
        #expect(try arguments.bool("flag") == false)
    }

    @Test func errorsNameTheArgument() {
        let arguments: FunctionArguments = ["alg_iters": "abc", "n": 1.5, "flag": 1, "text": 3, "alpha": "NaN", "users": 1, "ratio": 2, "order": "up"]
        #expect(failure { try arguments.integer("alg_alpha") } == #"missing argument "alg_alpha""#)
        #expect(failure { try arguments.integer("alg_iters") } == #"argument "alg_iters" must be an integer, got "abc""#)
        #expect(failure { try arguments.integer("n") } == #"argument "n" must be an integer, got 1.5"#)
        #expect(failure { try arguments.bool("flag") } == #"argument "flag" must be true or false, got 1"#)
        #expect(failure { try arguments.string("text") } == #"argument "text" must be a string, got 3"#)
        #expect(failure { try arguments.double("alpha") } == #"argument "alpha" must be a number, got "NaN""#)
        #expect(failure { try arguments.integer("users", in: 2...Int.max) } == #"argument "users" must be at least 2, got 1"#)
        #expect(failure { try arguments.integer("users", in: 3...5) } == #"argument "users" must be between 3 and 5, got 1"#)
        #expect(failure { try arguments.double("ratio", greaterThan: 0, atMost: 1) } == #"argument "ratio" must be greater than 0 and at most 1, got 2"#)
        #expect(failure { try arguments.choice("order", from: [("ascending", 1), ("descending", 2)]) } == #"argument "order" must be one of "ascending", "descending", got "up""#)
    }
}
