import Foundation
import Testing
@testable import Executors

@Suite struct OrderedSetTests {
    /// Hex digests, as Teaclave's fixtures hold, sorted.
    static func digests(_ numbers: [Int]) -> [String] {
        numbers.map { String(format: "%016llx", UInt64($0) &* 0x9E37_79B9_7F4A_7C15) }.sorted()
    }

    @Test func intersectMarksTheCommonItemsOnBothSides() throws {
        let workspace = try Workspace()
        let first = Self.digests(Array(0..<3000))
        let second = Self.digests(Array(stride(from: 0, to: 6000, by: 2)))
        let run = try workspace.run(
            "builtin-ordered-set-intersect", ["order": "ascending"],
            inputs: ["input_data1": first.joined(separator: "\n") + "\n", "input_data2": second.joined(separator: "\n")],
            outputs: ["output_result1", "output_result2"])
        #expect(run.result == "1500 common items")
        let inSecond = Set(second), inFirst = Set(first)
        #expect(run.outputs["output_result1"] == first.map { inSecond.contains($0) ? "1\n" : "0\n" }.joined())
        #expect(run.outputs["output_result2"] == second.map { inFirst.contains($0) ? "1\n" : "0\n" }.joined())
    }

    @Test func intersectDescendingWithRepeatedItems() throws {
        let workspace = try Workspace()
        let run = try workspace.run(
            "builtin-ordered-set-intersect", ["order": "descending"],
            inputs: ["input_data1": "pear\npear\nfig\napple\n", "input_data2": "zucchini\npear\nbanana\napple\napple\n"],
            outputs: ["output_result1", "output_result2"])
        #expect(run.result == "3 common items")
        #expect(run.outputs["output_result1"] == "1\n1\n0\n1\n")
        #expect(run.outputs["output_result2"] == "0\n1\n0\n1\n1\n")
        let empty = try workspace.run(
            "builtin-ordered-set-intersect", ["order": "ascending"],
            inputs: ["input_data1": "", "input_data2": "a\nb\n"], outputs: ["output_result1", "output_result2"])
        #expect(empty.result == "0 common items")
        #expect(empty.outputs["output_result1"] == "")
        #expect(empty.outputs["output_result2"] == "0\n0\n")
    }

    @Test func intersectBadArgumentsAndUnsortedInput() throws {
        let workspace = try Workspace()
        let outputs = ["output_result1", "output_result2"]
        let sorted = ["input_data1": "a\nb\n", "input_data2": "b\nc\n"]
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", inputs: sorted, outputs: outputs) } == #"missing argument "order""#)
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": "sideways"], inputs: sorted, outputs: outputs) }
            == #"argument "order" must be one of "ascending", "descending", got "sideways""#)
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": true], inputs: sorted, outputs: outputs) }
            == #"argument "order" must be a string, got true"#)
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": "ascending"], inputs: ["input_data1": "a"], outputs: outputs) }
            == #"no input named "input_data2"; declared inputs: input_data1"#)
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": "ascending"], inputs: sorted, outputs: ["output_result1"]) }
            == #"no output named "output_result2"; declared outputs: output_result1"#)
        // The out-of-order line is found even past the end of the other input; no output is left.
        let unsorted = ["input_data1": "a\nb\nd\nc\n", "input_data2": "b\n"]
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": "ascending"], inputs: unsorted, outputs: outputs) }
            == #"input "input_data1" line 4: not sorted in ascending order"#)
        #expect(!workspace.exists("out-output_result1"))
        #expect(failure { try workspace.run("builtin-ordered-set-intersect", ["order": "descending"], inputs: sorted, outputs: outputs) }
            == #"input "input_data2" line 2: not sorted in descending order"#)
    }

    @Test func joinPairsRowsOnTheirKeys() throws {
        let workspace = try Workspace()
        let customers = (0..<200).map { String(format: "c%04ld,Name %ld,%ld", $0, $0, 1900 + $0 % 100) }
        let orders = stride(from: 0, to: 400, by: 3).map { String(format: "%ld.50,c%04ld", $0, $0) }
        let arguments: FunctionArguments = ["left_column": 0, "right_column": 1, "ascending": true, "drop": false]
        let run = try workspace.run(
            "builtin-ordered-set-join", arguments,
            inputs: ["input_data1": customers.joined(separator: "\n"), "input_data2": orders.joined(separator: "\n") + "\n"],
            outputs: ["output_result"])
        let expected = stride(from: 0, to: 200, by: 3).map { String(format: "c%04ld,Name %ld,%ld,%ld.50\n", $0, $0, 1900 + $0 % 100, $0) }
        #expect(run.result == "67 records")
        #expect(run.outputs["output_result"] == expected.joined())

        let dropped = try workspace.run(
            "builtin-ordered-set-join", ["left_column": "0", "right_column": "0", "ascending": "false", "drop": "true"],
            inputs: ["input_data1": "9,\"Smith, J\",x\n5,Doe,y\n1,Roe,z\n", "input_data2": "7,a\n5,\"say \"\"hi\"\"\"\n1,c\n"],
            outputs: ["output_result"])
        #expect(dropped.result == "2 records")
        #expect(dropped.outputs["output_result"] == "Doe,y,\"say \"\"hi\"\"\"\nRoe,z,c\n")
    }

    @Test func joinBadArgumentsAndInputs() throws {
        let workspace = try Workspace()
        let inputs = ["input_data1": "1,a\n2,b\n", "input_data2": "1,x\n3,y\n"]
        let good: [String: JSONValue] = ["left_column": 0, "right_column": 0, "ascending": true, "drop": true]
        func run(_ changes: [String: JSONValue?], _ inputs: [String: String] = inputs) -> String? {
            var arguments = good
            for (name, value) in changes { arguments[name] = value }
            return failure { try workspace.run("builtin-ordered-set-join", FunctionArguments(arguments), inputs: inputs, outputs: ["output_result"]) }
        }
        #expect(run([:]) == nil)
        #expect(run(["drop": nil]) == #"missing argument "drop""#)
        #expect(run(["ascending": "yes"]) == #"argument "ascending" must be true or false, got "yes""#)
        #expect(run(["left_column": -1]) == #"argument "left_column" must be at least 0, got -1"#)
        #expect(run(["right_column": "first"]) == #"argument "right_column" must be an integer, got "first""#)
        #expect(run(["right_column": 2]) == #"input "input_data2" line 1: has no column 2 (columns count from 0; this line has 2)"#)
        #expect(run([:], ["input_data1": "1,a\n2,b\n", "input_data2": "3,y\n1,x\n"]) == #"input "input_data2" line 2: not sorted in ascending order"#)
        #expect(run([:], ["input_data1": "1,\"a\n", "input_data2": "1,x\n"]) == #"input "input_data1" line 1: a quoted field is not closed"#)
    }

    @Test func csvFieldsAndLines() {
        #expect(CSV.fields(of: "a,,\"b,c\",\"d\"\"e\"") == ["a", "", "b,c", "d\"e"])
        #expect(CSV.fields(of: "") == [""])
        #expect(CSV.fields(of: "\"open") == nil)
        #expect(CSV.line(["a", "b,c", "d\"e", ""]) == "a,\"b,c\",\"d\"\"e\",")
    }
}
