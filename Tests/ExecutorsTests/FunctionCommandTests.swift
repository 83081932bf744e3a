import CloisterTestSupport
import Foundation
import Testing

/// `cloister function run`, run as the real executable.
@Suite struct FunctionCommandTests {
    let workspace: Workspace

    init() throws { workspace = try Workspace() }

    private func cloister(_ arguments: [String]) -> (status: Int32, output: String) {
        HostTool.run(CloisterExecutable.url.path, ["function", "run"] + arguments)
    }

    @Test func runsABuiltinAndPrintsItsResult() {
        let (status, output) = cloister(["--executor-type", "builtin", "--executor", "builtin", "--name", "builtin-echo", "--arg", "message=hi there"])
        #expect(status == 0, "\(output)")
        #expect(output == "hi there\n")
    }

    @Test func runsAWebAssemblyPayloadOnLocalFiles() throws {
        let first = try workspace.write("a.txt", "x\ny\nz\n")
        let second = try workspace.write("b.txt", "z\nx\n")
        let (status, output) = cloister([
            "--executor-type", "wasm", "--executor", "wasmkit", "--payload", try TestGuests.path("functions/psi").path,
            "--input", "input_data1=\(first)", "--input", "input_data2=\(second)",
            "--output", "output_result1=\(workspace.path("r1.txt"))", "--output", "output_result2=\(workspace.path("r2.txt"))",
            "--timeout", "30", "--memory", "64MB",
        ])
        #expect(status == 0, "\(output)")
        #expect(output == "2\n")
        #expect(try workspace.readText("r1.txt") == "1\n0\n1\n")
        #expect(try workspace.readText("r2.txt") == "1\n1\n")
    }

    @Test func aFailingFunctionPrintsItsLogAndReasonAndExits1() throws {
        let text = try workspace.write("text.txt", "words")
        let (status, output) = cloister([
            "--executor-type", "wasm", "--executor", "wasmkit", "--payload", try TestGuests.path("functions/wordcount").path,
            "--arg", "min_length=0", "--input", "text=\(text)", "--output", "counts=\(workspace.path("counts.txt"))",
        ])
        #expect(status == 1)
        #expect(output == "min_length must be at least 1\ncloister: function failed: exited with status 1: min_length must be at least 1\n")
        #expect(!workspace.exists("counts.txt"))
    }

    @Test func badOptionsAreRefusedWithAClearMessage() throws {
        let unknown = cloister(["--executor-type", "lua", "--executor", "wasmkit"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains(#"unknown executor type "lua" (valid: builtin, python, wasm)"#), "\(unknown.output)")
        let noPayload = cloister(["--executor-type", "wasm", "--executor", "wasmkit"])
        #expect(noPayload.output.contains("a wasm function needs --payload FILE"), "\(noPayload.output)")
        let badPair = cloister(["--executor-type", "builtin", "--executor", "builtin", "--name", "builtin-echo", "--input", "nopath"])
        #expect(badPair.output.contains(#"--input must be NAME=PATH, got "nopath""#), "\(badPair.output)")
        let badMemory = cloister(["--executor-type", "builtin", "--executor", "builtin", "--name", "x", "--memory", "lots"])
        #expect(badMemory.output.contains(#"--memory must be a size such as 256MB, got "lots""#), "\(badMemory.output)")
        let empty = try workspace.write("empty.py", "")
        let mismatch = cloister(["--executor-type", "python", "--executor", "wasmkit", "--payload", empty])
        #expect(mismatch.status == 1)
        #expect(mismatch.output.contains("function not available: python/wasmkit"), "\(mismatch.output)")
    }
}
