import Executors
import Foundation

// 7. executors: the per-invocation cost of each executor on an echo function, and the Python
//    executor's cold and warm start.

extension Bench {
    func executorsSection() throws -> String {
        let iterations = options.latencyIterations
        let pythonRuns = max(options.runs, 3)
        let echoWasm = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(options.guests)/functions/echo.wasm")))
        let echoPython = Array("def entrypoint(argv):\n    return dict(zip(argv[::2], argv[1::2]))[\"message\"]\n".utf8)
        let arguments: FunctionArguments = ["message": "hello"]

        func time(_ executor: any FunctionExecutor, _ payload: [UInt8], name: String) throws -> Double {
            let runtime = FunctionRuntime()
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try executor.execute(name: name, arguments: arguments, payload: payload, runtime: runtime)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard result == "hello" else { throw BenchError("\(name) returned \"\(result)\", not hello") }
            return seconds
        }

        // Builtin and WebAssembly: one warm-up run (the module cache, the code paths), then timed runs.
        var builtin: [Double] = []
        var wasm: [Double] = []
        _ = try time(BuiltinExecutor(), [], name: "builtin-echo")
        _ = try time(WebAssemblyExecutor(), echoWasm, name: "echo")
        for round in 1...iterations {
            if round % 50 == 0 { progress("  executors: echo \(round)/\(iterations)") }
            builtin.append(try time(BuiltinExecutor(), [], name: "builtin-echo"))
            wasm.append(try time(WebAssemblyExecutor(), echoWasm, name: "echo"))
        }

        // Python: cold (no interpreter started ahead) and warm (one started and ready), interleaved.
        let runtimeDirectory = PythonRuntime.shared.directory
        let cold = PythonRuntime(directory: runtimeDirectory, poolSize: 0)
        let warm = PythonRuntime(directory: runtimeDirectory, poolSize: 1)
        defer { warm.drain() }
        _ = try time(PythonExecutor(runtime: cold), echoPython, name: "echo")  // parses python.wasm once (module cache)
        var pythonCold: [Double] = []
        var pythonWarm: [Double] = []
        for round in 1...pythonRuns {
            progress("  executors: python cold and warm \(round)/\(pythonRuns)")
            pythonCold.append(try time(PythonExecutor(runtime: cold), echoPython, name: "echo"))
            try warm.prewarm(waitUntilReady: true)
            pythonWarm.append(try time(PythonExecutor(runtime: warm), echoPython, name: "echo"))
        }
        builtin.sort()
        wasm.sort()
        pythonCold.sort()
        pythonWarm.sort()
        func row(_ label: String, _ samples: [Double]) -> String {
            "| \(label) | \(formatDuration(median(samples))) | \(formatDuration(samples.first!)) | \(formatDuration(percentile(samples, 99))) | \(formatDuration(samples.last!)) | \(samples.count) |"
        }
        return """

            ## Executors

            One invocation of an echo function through `FunctionExecutor.execute` on the calling \
            thread, timed from the call to the result (no files): builtin `builtin-echo`; WebAssembly \
            `functions/echo.wasm` (examples/functions/echo.c, a WASI command: a new sandbox kernel, the \
            payload written into it, create+exec+exit, stdout collected; after one warm-up run); \
            Python: an `entrypoint(argv)` returning the message. Python cold: no interpreter started \
            ahead (`PythonRuntime(poolSize: 0)`): the run includes CPython's start-up in its sandbox \
            (python.wasm is already parsed: the module cache). Python warm: one interpreter started \
            and waiting for its request (`poolSize: 1`, `prewarm(waitUntilReady: true)` before each \
            timed run, untimed). Cold and warm runs are interleaved.

            | invocation (echo) | median | min | p99 | max | runs |
            |---|---:|---:|---:|---:|---:|
            \(row("builtin", builtin))
            \(row("wasm (WASI command)", wasm))
            \(row("python, cold start", pythonCold))
            \(row("python, warm (interpreter started ahead)", pythonWarm))

            Python warm ÷ cold (medians, same run): \(formatRatio(median(pythonWarm) / median(pythonCold))).

            """
    }
}
