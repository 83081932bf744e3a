import CloisterTestSupport
import Foundation
import LibOS
import ProtectedFiles
import Testing

@testable import Executors

/// The scientific Python executor (`python` / `cpython-sci`): CPython 3.15 with numpy, pandas,
/// scipy and scikit-learn (`scripts/fetch-scientific-python.sh`, run by `make test`), on wasmtime.
@Suite(.serialized) struct ScientificPythonTests {
    static let runtimeDirectory = PackagePaths.root.appendingPathComponent(PythonDistribution.scientific.defaultRelativeDirectory).path
    /// One interpreter kept started (numpy and pandas imported), as a server keeps it.
    static let runtime = PythonRuntime(.scientific, directory: runtimeDirectory, poolSize: 1)

    /// Whether this run's engine can run the runtime (`make test` runs the executor suite once on
    /// WasmKit too, where the runtime refuses with a clear error instead).
    static var onWasmtime: Bool {
        EngineSelection.granted((try? EngineSelection.wanted(requested: nil, configured: nil)) ?? .wasmtime) == .wasmtime
    }

    let workspace: Workspace

    init() throws { workspace = try Workspace() }

    private func run(
        _ source: String, _ arguments: FunctionArguments = [:], inputs: [String: String] = [:], outputs: [String] = [],
        limits: FunctionLimits = .standard
    ) throws -> (result: String, log: String) {
        var inputPaths: [String: String] = [:]
        for (name, content) in inputs { inputPaths[name] = try workspace.write("in-\(name)", content) }
        let function = FunctionRuntime(
            plaintextInputs: inputPaths,
            plaintextOutputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0, workspace.path("out-\($0)")) }),
            limits: limits)
        do {
            let result = try PythonExecutor(runtime: Self.runtime).execute(
                name: "f", arguments: arguments, payload: Array(source.utf8), runtime: function)
            return (result, function.log)
        } catch {
            throw PythonExecutorTests.Failure(message: String(describing: error), log: function.log)
        }
    }

    @Test func numpyAndPandasRun() throws {
        guard Self.onWasmtime else { return }
        let (result, log) = try run("""
            import numpy as np
            import pandas as pd

            def entrypoint(argv):
                frame = pd.DataFrame({"a": np.arange(5), "b": np.arange(5) * 2})
                return str(int(frame["b"].sum()))
            """)
        #expect(result == "20", "\(log)")
    }

    private func example(_ name: String) throws -> String {
        try String(contentsOf: PackagePaths.root.appendingPathComponent("examples/functions/\(name)"), encoding: .utf8)
    }

    private func seal(_ text: String, _ key: [UInt8]) throws -> String {
        let sealed = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: key, iv: nil, output: sealed)
        try writer.write(Array(text.utf8))
        _ = try writer.finish()
        return try workspace.write("sealed-\(UUID().uuidString)", sealed.bytes)
    }

    private func open(_ name: String, _ key: [UInt8]) throws -> [UInt8] {
        let reader = try ProtectedFileReader(scheme: .cloisterFile256, key: key, input: MemoryFile(try workspace.read(name)))
        var plaintext: [UInt8] = []
        while let piece = try reader.read() { plaintext += piece }
        return plaintext
    }

    /// Runs `source` over encrypted files: `inputs` are (name, plaintext, owner's key), `outputs`
    /// (name, owner's key).
    private func runEncrypted(
        _ source: String, _ arguments: FunctionArguments = [:], inputs: [(String, String, [UInt8])], outputs: [(String, [UInt8])]
    ) throws -> String {
        var staged: [String: StagedFile] = [:]
        for (name, text, key) in inputs { staged[name] = StagedFile(path: try seal(text, key), scheme: .cloisterFile256, key: key) }
        let function = FunctionRuntime(
            inputs: staged,
            outputs: Dictionary(uniqueKeysWithValues: outputs.map { name, key in
                (name, StagedFile(path: workspace.path(name), scheme: .cloisterFile256, key: key))
            }))
        do {
            return try PythonExecutor(runtime: Self.runtime).execute(name: "f", arguments: arguments, payload: Array(source.utf8), runtime: function)
        } catch {
            throw PythonExecutorTests.Failure(message: String(describing: error), log: function.log)
        }
    }

    /// Two banks' encrypted customer lists, joined with pandas: each bank's report opens with its
    /// key alone and holds the aggregate over the shared customers only.
    @Test func aPandasJoinOverTwoPartiesEncryptedFiles() throws {
        guard Self.onWasmtime else { return }
        let bankA = "customer_id,balance\n" + (1...200).map { "c\($0),\($0 * 10)" }.joined(separator: "\n") + "\n"
        let bankB = "customer_id,loans\n" + (150...400).map { "c\($0),\($0)" }.joined(separator: "\n") + "\n"
        let keyA = randomKey(.cloisterFile256), keyB = randomKey(.cloisterFile256)
        let result = try runEncrypted(
            try example("pandas_join.py"), inputs: [("bank_a", bankA, keyA), ("bank_b", bankB, keyB)],
            outputs: [("report_a", keyA), ("report_b", keyB)])
        #expect(result == "51 shared customers")
        // Customers 150…200 are shared: B's loans over them total 150+…+200, A's balances ten times that.
        let loans = (150...200).reduce(0, +)
        #expect(String(decoding: try open("report_a", keyA), as: UTF8.self) == "shared_customers,total_loans_at_b\n51,\(loans).00\n")
        #expect(String(decoding: try open("report_b", keyB), as: UTF8.self) == "shared_customers,total_balance_at_a\n51,\(loans * 10).00\n")
        #expect(failure { try open("report_a", keyB) } != nil, "only bank A's key opens bank A's report")
        #expect(failure { try open("report_b", keyA) } != nil, "only bank B's key opens bank B's report")
        #expect(!String(decoding: try workspace.read("report_a"), as: UTF8.self).contains("shared_customers"), "stored encrypted")
    }

    /// scikit-learn's LogisticRegression trained on two parties' rows and evaluated on a third's.
    @Test func aScikitLearnModelTrainedOnTwoPartiesEvaluatedOnAThird() throws {
        guard Self.onWasmtime else { return }
        // Separable by x1 + x2 > 0, with some spread; each party has its own rows.
        func rows(_ seed: Int, _ count: Int) -> String {
            var generator = SplitMix64(seed: UInt64(seed))
            var lines = ["x1,x2,x3,label"]
            for _ in 0..<count {
                let x1 = Double.random(in: -1...1, using: &generator), x2 = Double.random(in: -1...1, using: &generator)
                let x3 = Double.random(in: -1...1, using: &generator)
                lines.append("\(x1),\(x2),\(x3),\(x1 + x2 > 0 ? 1 : 0)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        let keys = (0..<3).map { _ in randomKey(.cloisterFile256) }
        let result = try runEncrypted(
            try example("sklearn_logistic.py"), ["C": .string("10")],
            inputs: [("train_a", rows(1, 300), keys[0]), ("train_b", rows(2, 300), keys[1]), ("test_c", rows(3, 200), keys[2])],
            outputs: [("model", keys[0]), ("evaluation", keys[2])])
        #expect(result.hasPrefix("accuracy ") && result.hasSuffix(" on 200 rows"), "\(result)")
        let evaluation = String(decoding: try open("evaluation", keys[2]), as: UTF8.self).split(separator: "\n")
        let accuracy = try #require(Double(evaluation[1].split(separator: ",")[0]))
        #expect(accuracy > 0.9, "\(evaluation)")
        let weights = String(decoding: try open("model", keys[0]), as: UTF8.self).split(separator: "\n").compactMap { Double($0) }
        try #require(weights.count == 4)
        #expect(weights[0] > 1 && weights[1] > 1 && abs(weights[2]) < weights[0], "x1 and x2 carry the label, x3 does not: \(weights)")
    }

    /// matplotlib draws a chart inside the sandbox; the output is a PNG.
    @Test func aMatplotlibChartIsAPNGOutput() throws {
        guard Self.onWasmtime else { return }
        let figures = "month,value\n" + (1...12).map { "\($0),\($0 * $0)" }.joined(separator: "\n") + "\n"
        let (result, log) = try run(try example("matplotlib_chart.py"), ["title": .string("Squares")], inputs: ["figures": figures], outputs: ["chart"])
        #expect(result == "chart of 12 points", "\(log)")
        let png = try workspace.read("out-chart")
        #expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), "a PNG signature")
        #expect(png.count > 5000)
        // IHDR: 600 × 400 pixels (6 × 4 inches at 100 dpi).
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        #expect(width == 600 && height == 400)
    }

    /// An exception fails the run with the last line of its traceback as the reason.
    @Test func anExceptionsLastLineIsTheReason() throws {
        guard Self.onWasmtime else { return }
        let error = failure { try run("import numpy as np\n\ndef entrypoint(argv):\n    return str(np.linalg.inv(np.zeros((2, 2))))\n") } ?? ""
        #expect(error == "exception: numpy.linalg.LinAlgError: Singular matrix", "\(error)")
    }

    @Test func aBusyFunctionIsStoppedByItsDeadline() throws {
        guard Self.onWasmtime else { return }
        let limits = FunctionLimits(memory: 512 << 20, timeout: 2_000_000_000)
        let error = failure { try run("import numpy as np\n\ndef entrypoint(argv):\n    while True:\n        np.arange(1000).sum()\n", limits: limits) }
        #expect(error == "deadline exceeded: the function ran longer than 2s", "\(error ?? "")")
    }

    /// An array past the memory limit is refused (numpy's MemoryError), and the host is fine.
    @Test func aMemoryLimitHolds() throws {
        guard Self.onWasmtime else { return }
        let limits = FunctionLimits(memory: 256 << 20, timeout: 60_000_000_000)
        let error = failure {
            try run("import numpy as np\n\ndef entrypoint(argv):\n    return str(np.ones((64, 1024, 1024)).sum())\n", limits: limits)
        } ?? ""
        #expect(error.hasPrefix("exception: numpy._core._exceptions._ArrayMemoryError: Unable to allocate 512. MiB") || error.hasPrefix("out of memory"), "\(error)")
        #expect(try run("def entrypoint(argv):\n    return 'after'\n").result == "after")
    }

    /// No network, no host programs, no files but the function's own: each attempt fails inside
    /// the sandbox.
    @Test func socketsProgramsAndOtherFilesFailInsideTheSandbox() throws {
        guard Self.onWasmtime else { return }
        let source = #"""
            import os

            def attempt(action):
                try:
                    action()
                    return "ALLOWED"
                except Exception as error:
                    return type(error).__name__

            def connect():
                import socket
                socket.create_connection(("127.0.0.1", 80), timeout=1)

            def entrypoint(argv):
                results = [
                    attempt(connect),
                    attempt(lambda: os.system("id") == 0 or (_ for _ in ()).throw(OSError("no system"))),
                    attempt(lambda: open("/etc/passwd").read()),
                    attempt(lambda: open("/usr/local/lib/python315.zip", "ab")),
                    attempt(lambda: open("/usr/local/bin/python.wasm", "wb")),
                    attempt(lambda: os.listdir("/home")),
                ]
                return " ".join(results)
            """#
        let (result, log) = try run(source)
        #expect(!result.contains("ALLOWED"), "\(result)\n\(log)")
        #expect(result.split(separator: " ").count == 6, "\(result)")
    }
}

/// The scientific runtime runs on wasmtime only: on WasmKit (`make test`'s second pass) it says so.
@Suite struct ScientificPythonEngineTests {
    @Test func onWasmKitTheRuntimeRefusesWithTheReason() throws {
        let runtime = PythonRuntime(.scientific, directory: ScientificPythonTests.runtimeDirectory, poolSize: 0, sandbox: SandboxConfiguration(engine: .wasmkit))
        let function = FunctionRuntime()
        let error = failure {
            try PythonExecutor(runtime: runtime).execute(name: "f", arguments: [:], payload: Array("def entrypoint(argv):\n    return ''\n".utf8), runtime: function)
        }
        #expect(error?.contains("runs on wasmtime only, not on wasmkit") == true, "\(error ?? "")")
    }
}
