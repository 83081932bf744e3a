import CloisterTestSupport
import Foundation
import Testing

@testable import Executors

/// The Python executor on CPython 3.11 for WASI (`scripts/fetch-python.sh`, run by `make test`).
@Suite(.serialized) struct PythonExecutorTests {
    static let runtimeDirectory = PackagePaths.root.appendingPathComponent(PythonDistribution.cpython.defaultRelativeDirectory).path
    /// Interpreters started on demand: each test pays a cold start.
    static let coldRuntime = PythonRuntime(directory: runtimeDirectory, poolSize: 0)

    let workspace: Workspace

    init() throws { workspace = try Workspace() }

    private func run(
        _ source: String, _ arguments: FunctionArguments = [:], inputs: [String: String] = [:], outputs: [String] = [],
        limits: FunctionLimits = .standard, runtime: PythonRuntime = coldRuntime
    ) throws -> (result: String, log: String) {
        var inputPaths: [String: String] = [:]
        for (name, content) in inputs { inputPaths[name] = try workspace.write("in-\(name)", content) }
        let function = FunctionRuntime(
            plaintextInputs: inputPaths,
            plaintextOutputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0, workspace.path("out-\($0)")) }),
            limits: limits)
        do {
            let result = try PythonExecutor(runtime: runtime).execute(name: "f", arguments: arguments, payload: Array(source.utf8), runtime: function)
            return (result, function.log)
        } catch {
            throw Failure(message: String(describing: error), log: function.log)
        }
    }

    struct Failure: Error, CustomStringConvertible {
        let message: String
        let log: String
        var description: String { message }
    }

    private func example(_ name: String) throws -> String {
        try String(contentsOf: PackagePaths.root.appendingPathComponent("examples/functions/\(name)"), encoding: .utf8)
    }

    @Test func echoReturnsItsArgumentAndPrintsToTheLog() throws {
        let source = """
            import sys

            def entrypoint(argv):
                args = dict(zip(argv[::2], argv[1::2]))
                print("echoing", len(args["message"]), "characters")
                print("to stderr", file=sys.stderr)
                return args["message"]
            """
        let (result, log) = try run(source, ["message": "Hello, Cloister!"])
        #expect(result == "Hello, Cloister!")
        #expect(log.contains("echoing 16 characters"))
        #expect(log.contains("to stderr"))
    }

    @Test func logisticRegressionTrainsThenPredictsThroughFiles() throws {
        let training = (0..<20).map { i -> String in
            let x = Double(i) / 2
            return "\(x),\(10 - x),\(x > 5 ? 1 : 0)"
        }.joined(separator: "\n")
        let (trained, trainLog) = try run(
            try example("logistic_regression_train.py"), ["alg_alpha": .number(0.3), "alg_iters": .number(200)],
            inputs: ["training_data": training], outputs: ["model_file"])
        #expect(trained == "trained on 20 samples")
        #expect(trainLog.contains("trained 3 weights"))
        let model = try workspace.readText("out-model_file")
        #expect(model.split(separator: "\n").count == 3)

        let (predicted, _) = try run(
            try example("logistic_regression_predict.py"),
            inputs: ["model_file": model, "data_file": "1.0,9.0\n9.0,1.0\n"], outputs: ["result_file"])
        #expect(predicted == "predicted 2 rows")
        let probabilities = try workspace.readText("out-result_file").split(separator: "\n").compactMap { Double($0) }
        #expect(probabilities.count == 2)
        #expect(probabilities[0] < 0.5 && probabilities[1] > 0.5, "\(probabilities)")
    }

    @Test func anExceptionFailsTheRunWithItsLastTracebackLine() throws {
        let source = """
            def helper(n):
                raise ValueError("bad value %d" % n)

            def entrypoint(argv):
                return helper(7)
            """
        let error = #expect(throws: Failure.self) { try run(source) }
        #expect(error?.message == "exception: ValueError: bad value 7")
        #expect(error?.log.contains("Traceback (most recent call last):") == true)
        #expect(error?.log.contains("in helper") == true)
    }

    @Test func aSyntaxErrorFailsTheRun() throws {
        let error = #expect(throws: Failure.self) { try run("def entrypoint(argv)\n    return 'x'\n") }
        #expect(error?.message.hasPrefix("exception: SyntaxError: ") == true, "\(error?.message ?? "")")
    }

    @Test func aPayloadWithoutEntrypointOrWithABadResultFails() throws {
        let missing = #expect(throws: Failure.self) { try run("x = 1\n") }
        #expect(missing?.message == "exception: cloister.FunctionError: the payload defines no entrypoint(argv) function")
    }

    @Test func anInfiniteLoopIsStoppedByItsDeadline() throws {
        let error = #expect(throws: Failure.self) {
            try run("def entrypoint(argv):\n    while True:\n        pass\n", limits: FunctionLimits(memory: 256 << 20, timeout: 2_000_000_000))
        }
        #expect(error?.message == "deadline exceeded: the function ran longer than 2s")
    }

    @Test func osSystemFailsInsideTheSandbox() throws {
        let error = #expect(throws: Failure.self) { try run("import os\n\ndef entrypoint(argv):\n    os.system('cat /etc/passwd')\n    return 'ran'\n") }
        #expect(error?.message == "exception: AttributeError: module 'os' has no attribute 'system'")
    }

    @Test func nothingOutsideTheDeclaredFilesCanBeReadOrChanged() throws {
        let source = #"""
            import os
            import cloister

            def attempt(action):
                try:
                    action()
                    return "allowed"
                except Exception as error:
                    return type(error).__name__

            def entrypoint(argv):
                results = [
                    attempt(lambda: open("/etc/passwd").read()),
                    attempt(lambda: open("/inputs/../../etc/hostname").read()),
                    attempt(lambda: cloister.open_input("../etc/passwd")),
                    attempt(lambda: cloister.open_input("undeclared")),
                    attempt(lambda: cloister.create_output("undeclared")),
                    attempt(lambda: open("/runtime/python-3.11.3.wasm", "r+b").write(b"x")),
                    attempt(lambda: os.remove("/runtime/python-3.11.3.wasm")),
                    attempt(lambda: open("/runtime/evil.py", "w")),
                ]
                with cloister.open_input("secret") as f:
                    results.append(f.read())
                return " ".join(results)
            """#
        let (result, _) = try run(source, inputs: ["secret": "mine"])
        #expect(result == "FileNotFoundError PermissionError ValueError FileNotFoundError FileNotFoundError OSError OSError OSError mine")
        let runtimeFile = Self.runtimeDirectory + "/" + PythonDistribution.cpython.programFile
        #expect(!FileManager.default.fileExists(atPath: Self.runtimeDirectory + "/evil.py"))
        #expect(FileManager.default.fileExists(atPath: runtimeFile))
        try PythonRuntime(directory: Self.runtimeDirectory).verify()
    }

    @Test func aWarmInterpreterServesTheNextRunAndIsReplaced() throws {
        let runtime = PythonRuntime(directory: Self.runtimeDirectory, poolSize: 1)
        defer { runtime.drain() }
        try runtime.prewarm(waitUntilReady: true)
        #expect(runtime.readyCount() == 1)
        let (result, _) = try run("import sys\n\ndef entrypoint(argv):\n    sys.cloister_leak = 'dirty'\n    return 'warm'\n", runtime: runtime)
        #expect(result == "warm")
        #expect(eventually(within: 600) { runtime.readyCount() == 1 }, "a replacement is started")
        let (again, _) = try run("import sys\n\ndef entrypoint(argv):\n    return 'again: ' + getattr(sys, 'cloister_leak', 'clean')\n", runtime: runtime)
        #expect(again == "again: clean")
    }

    @Test func aMissingRuntimeSaysHowToGetIt() throws {
        let error = #expect(throws: Failure.self) {
            try run("def entrypoint(argv):\n    return ''\n", runtime: PythonRuntime(directory: workspace.path("nowhere")))
        }
        #expect(error?.message.hasPrefix("CPython 3.11 for WASI was not found (no ") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("run `make` (scripts/fetch-python.sh) or set CLOISTER_PYTHON_DIR") == true, "\(error?.message ?? "")")
    }
}
