import Testing
@testable import Executors

@Suite struct PrivateJoinAndComputeTests {
    @Test func sumsTheNamesEveryPartyHas() throws {
        let workspace = try Workspace()
        let bankA = "Alice: 100\nBob: 50\nCarol: 7\nDave:1\n\n"
        let bankB = "Carol : 3\nAlice: 20\nErin: 9\nBob: 5\nBob: 5\n"
        let bankC = "Bob: 1\r\nAlice: 3\r\nCarol: -10\r\n"
        let run = try workspace.run(
            "builtin-private-join-and-compute", ["num_user": 3],
            inputs: ["input_data0": bankA, "input_data1": bankB, "input_data2": bankC],
            outputs: ["output_data0", "output_data1", "output_data2"])
        let expected = "Alice, 123\nBob, 61\nCarol, 0\n"
        #expect(run.result == expected)
        #expect(run.outputs == ["output_data0": expected, "output_data1": expected, "output_data2": expected])

        let two = try workspace.run(
            "builtin-private-join-and-compute", ["num_user": "2"],
            inputs: ["input_data0": "x: 1\n", "input_data1": "y: 2\n"], outputs: ["output_data0", "output_data1"])
        #expect(two.result == "")
        #expect(two.outputs == ["output_data0": "", "output_data1": ""])
    }

    @Test func badArgumentsAndInputs() throws {
        let workspace = try Workspace()
        let outputs = ["output_data0", "output_data1"]
        let good = ["input_data0": "a: 1\n", "input_data1": "a: 2\n"]
        #expect(failure { try workspace.run("builtin-private-join-and-compute", inputs: good, outputs: outputs) } == #"missing argument "num_user""#)
        #expect(failure { try workspace.run("builtin-private-join-and-compute", ["num_user": 1], inputs: good, outputs: outputs) }
            == #"argument "num_user" must be at least 2, got 1"#)
        #expect(failure { try workspace.run("builtin-private-join-and-compute", ["num_user": "two"], inputs: good, outputs: outputs) }
            == #"argument "num_user" must be an integer, got "two""#)
        #expect(failure { try workspace.run("builtin-private-join-and-compute", ["num_user": 3], inputs: good, outputs: outputs) }
            == #"no input named "input_data2"; declared inputs: input_data0, input_data1"#)
        let bad = { (line: String) in
            failure { try workspace.run("builtin-private-join-and-compute", ["num_user": 2], inputs: ["input_data0": "a: 1\n" + line, "input_data1": "a: 2"], outputs: outputs) }
        }
        #expect(bad("b 2") == #"input "input_data0" line 2: expected "name: amount""#)
        #expect(bad("b: 2: 3") == #"input "input_data0" line 2: expected "name: amount""#)
        #expect(bad("b: lots") == #"input "input_data0" line 2: the amount is not an integer"#)
        #expect(bad(" : 3") == #"input "input_data0" line 2: the name is empty"#)
        #expect(bad("a: \(Int.max)") == #"input "input_data0" line 2: the amounts of this name overflow"#)
    }
}
