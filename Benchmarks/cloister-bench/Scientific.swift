import Executors
import Foundation
import LibOS

// 9. scientific: the scientific Python executor (`cpython-sci`) — a cold and a warm start, and a
//    pandas join and a scikit-learn logistic regression on 100k rows against native CPython with
//    the same packages (scripts/bench.sh installs them into a venv of its own).

extension Bench {
    func scientificSection(directory: String) throws -> String {
        let runs = max(options.runs, 3)
        let rows = options.scientificRows
        let cold = PythonRuntime(.scientific, directory: directory, poolSize: 0)
        let warm = PythonRuntime(.scientific, directory: directory, poolSize: 1)
        defer { warm.drain() }
        let small = Array("""
            import numpy as np
            import pandas as pd

            def entrypoint(argv):
                return str(int(pd.DataFrame({"a": np.arange(10)})["a"].sum()))
            """.utf8)

        func time(_ runtime: PythonRuntime, _ payload: [UInt8], inputs: [String: String] = [:]) throws -> (seconds: Double, result: String) {
            let function = FunctionRuntime(plaintextInputs: inputs, limits: FunctionLimits(memory: 1 << 30, timeout: 600_000_000_000))
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try PythonExecutor(runtime: runtime).execute(name: "bench", arguments: [:], payload: payload, runtime: function)
            return (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, result)
        }

        progress("scientific: compiling python.wasm (once: the artifact cache keeps it)")
        _ = try time(cold, small)
        var coldRuns: [Double] = []
        var warmRuns: [Double] = []
        for round in 1...runs {
            progress("  scientific: cold and warm \(round)/\(runs)")
            coldRuns.append(try time(cold, small).seconds)
            try warm.prewarm(limits: FunctionLimits(memory: 1 << 30, timeout: 600_000_000_000), waitUntilReady: true)
            warmRuns.append(try time(warm, small).seconds)
        }
        coldRuns.sort()
        warmRuns.sort()

        // The workloads: the same Python in the sandbox and natively, each timing its own work
        // (reading the CSVs included) with perf_counter and returning the seconds.
        let data = base + "/scientific"
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        var generator = SplitMix64(seed: 7)
        var left = "customer_id,balance\n", right = "customer_id,loans\n", training = "x1,x2,x3,x4,x5,label\n"
        for index in 0..<rows {
            left += "c\(index),\(generator.next() % 100_000)\n"
            right += "c\(index * 2),\(generator.next() % 50_000)\n"
            let x = (0..<5).map { _ in Double(generator.next() % 2000) / 1000 - 1 }
            training += x.map { String($0) }.joined(separator: ",") + ",\(x[0] + 0.5 * x[1] - x[2] > 0 ? 1 : 0)\n"
        }
        let files = ["left": data + "/left.csv", "right": data + "/right.csv", "training": data + "/training.csv"]
        try left.write(toFile: files["left"]!, atomically: true, encoding: .utf8)
        try right.write(toFile: files["right"]!, atomically: true, encoding: .utf8)
        try training.write(toFile: files["training"]!, atomically: true, encoding: .utf8)
        let join = """
            import time
            import pandas as pd

            def work(open_file):
                start = time.perf_counter()
                with open_file("left") as f:
                    a = pd.read_csv(f)
                with open_file("right") as f:
                    b = pd.read_csv(f)
                shared = a.merge(b, on="customer_id", how="inner")
                total = float(shared["balance"].sum() + shared["loans"].sum())
                return time.perf_counter() - start, len(shared), total
            """
        let regression = """
            import time
            import pandas as pd
            from sklearn.linear_model import LogisticRegression

            def work(open_file):
                start = time.perf_counter()
                with open_file("training") as f:
                    frame = pd.read_csv(f)
                x = frame.drop(columns=["label"]).to_numpy()
                model = LogisticRegression(max_iter=1000).fit(x, frame["label"].to_numpy())
                return time.perf_counter() - start, len(frame), float(model.score(x, frame["label"].to_numpy()))
            """
        let inSandbox = "\nimport cloister\n\ndef entrypoint(argv):\n    seconds, count, value = work(cloister.open_input)\n    return '%r %d %.3f' % (seconds, count, value)\n"
        let natively = "\nimport sys\n\nif __name__ == '__main__':\n    paths = dict(arg.split('=', 1) for arg in sys.argv[1:])\n    seconds, count, value = work(lambda name: open(paths[name]))\n    print('%r %d %.3f' % (seconds, count, value))\n"

        func sandboxed(_ code: String, _ inputs: [String]) throws -> (Double, String) {
            let (_, result) = try time(warm, Array((code + inSandbox).utf8), inputs: Dictionary(uniqueKeysWithValues: inputs.map { ($0, files[$0]!) }))
            let fields = result.split(separator: " ")
            guard fields.count == 3, let seconds = Double(fields[0]) else { throw BenchError("the sandboxed workload returned \(result)") }
            return (seconds, fields[1...].joined(separator: " "))
        }
        func native(_ code: String, _ inputs: [String]) throws -> (Double, String)? {
            guard let python = options.nativeScientificPython else { return nil }
            let script = data + "/work-\(UUID().uuidString).py"
            try (code + natively).write(toFile: script, atomically: true, encoding: .utf8)
            let process = Foundation.Process()
            process.executableURL = URL(fileURLWithPath: python)
            process.arguments = [script] + inputs.map { "\($0)=\(files[$0]!)" }
            // The sandbox runs one thread: so does the native peer (OpenBLAS and friends).
            var environment = ProcessInfo.processInfo.environment
            for variable in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"] { environment[variable] = "1" }
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let fields = text.split(whereSeparator: \.isWhitespace)
            guard process.terminationStatus == 0, fields.count == 3, let seconds = Double(fields[0]) else {
                throw BenchError("the native workload printed \(text)")
            }
            return (seconds, fields[1...].joined(separator: " "))
        }

        var table = ""
        for (label, code, inputs) in [("pandas join", join, ["left", "right"]), ("scikit-learn logistic regression", regression, ["training"])] {
            var ours: [Double] = []
            var theirs: [Double] = []
            for round in 1...runs {
                progress("  scientific: \(label) \(round)/\(runs)")
                try warm.prewarm(limits: FunctionLimits(memory: 1 << 30, timeout: 600_000_000_000), waitUntilReady: true)
                let (seconds, answer) = try sandboxed(code, inputs)
                ours.append(seconds)
                if let (nativeSeconds, nativeAnswer) = try native(code, inputs) {
                    theirs.append(nativeSeconds)
                    if round == 1, answer.split(separator: " ").first != nativeAnswer.split(separator: " ").first {
                        throw BenchError("\(label): the sandbox counted \(answer), native CPython \(nativeAnswer)")
                    }
                }
            }
            ours.sort()
            theirs.sort()
            let ratio = theirs.isEmpty ? Double.nan : median(ours) / median(theirs)
            table += "| \(label), \(rows) rows | \(formatDuration(median(ours))) | \(formatDuration(ours.first!)) | "
                + "\(theirs.isEmpty ? "—" : formatDuration(median(theirs))) | \(formatFactor(ratio)) |\n"
        }
        return """

            ## Scientific Python (`cpython-sci`)

            One invocation through `PythonExecutor.execute` on the calling thread, timed from the call \
            to the result (python.wasm's code comes from the artifact cache). Cold: no interpreter \
            started ahead (`poolSize: 0`): CPython's start-up, `import numpy, pandas` and the run. Warm: \
            an interpreter started ahead, with numpy and pandas imported (`poolSize: 1`, prewarmed before \
            each timed run, untimed). The function is a 10-row pandas sum.

            | invocation | median | min | p99 | max | runs |
            |---|---:|---:|---:|---:|---:|
            | cold start | \(formatDuration(median(coldRuns))) | \(formatDuration(coldRuns.first!)) | \(formatDuration(percentile(coldRuns, 99))) | \(formatDuration(coldRuns.last!)) | \(coldRuns.count) |
            | warm (numpy and pandas imported) | \(formatDuration(median(warmRuns))) | \(formatDuration(warmRuns.first!)) | \(formatDuration(percentile(warmRuns, 99))) | \(formatDuration(warmRuns.last!)) | \(warmRuns.count) |

            The workloads below time themselves inside Python (`time.perf_counter` around reading the \
            CSVs and the work), in the sandbox (a warm interpreter, files staged as inputs) and in \
            native CPython 3.11 with the same packages (numpy 2.2, pandas 2.3, scikit-learn 1.7 from \
            PyPI; one BLAS thread, as in the sandbox), on the same files.

            | workload | sandbox, median | sandbox, min | native, median | sandbox ÷ native |
            |---|---:|---:|---:|---:|
            \(table)
            """
    }
}
