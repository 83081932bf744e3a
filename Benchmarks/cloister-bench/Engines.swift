import Foundation
import LibOS

// The engines section: whole processes — `cloister run` on each engine, wasmtime's own CLI on the
// same module precompiled, and the native build — so the ratios include everything a user waits
// for (start-up, loading the compiled code from the artifact cache, the run, the exit).

extension Bench {
    func enginesSection() throws -> String {
        guard let cloister = options.cloister else { throw BenchError("the engines section needs --cloister PATH") }
        let cli = options.wasmtimeCLI
        let instance = base + "/engines-instance"
        try FileManager.default.createDirectory(atPath: instance, withIntermediateDirectories: true)
        var mounts = """
            { "target": "/", "type": "ramfs" },
            { "target": "/bin", "type": "hostfs", "source": \(jsonString(guests)), "options": { "read_only": "true" } },
            { "target": "/tmp", "type": "ramfs" }
            """
        var entryPoints = "\"/bin\""
        if let python = options.pythonDirectory {
            mounts += ",\n{ \"target\": \"/py\", \"type\": \"hostfs\", \"source\": \(jsonString(python)), \"options\": { \"read_only\": \"true\" } }"
            entryPoints += ", \"/py\""
        }
        try """
            {
              "resource_limits": { "user_space_size": "1GB", "max_num_of_processes": 16, "max_num_of_threads": 32 },
              "process": { "default_stack_size": "1MB", "default_heap_size": "512MB" },
              "entry_points": [\(entryPoints)],
              "env": { "default": ["HOME=/tmp", "PATH=/bin"], "untrusted": [] },
              "mount": [\(mounts)],
              "metadata": { "debuggable": false }
            }
            """.write(toFile: instance + "/Cloister.json", atomically: true, encoding: .utf8)
        let commands = CommandRunner()
        func cloisterRun(_ engine: EngineKind, _ program: String, _ arguments: [String]) -> (Kernel.StandardIO) throws -> Sample {
            { stdio in try commands.run(cloister, ["run", "--instance", instance, "--engine", engine.rawValue, program] + arguments, stdio: stdio) }
        }
        // wasmtime's CLI runs the same modules precompiled (`wasmtime compile`), outside the timing.
        func precompiled(_ module: String) throws -> String? {
            guard let cli else { return nil }
            let output = base + "/" + (module as NSString).lastPathComponent + ".cwasm"
            if !FileManager.default.fileExists(atPath: output) {
                progress("engines: wasmtime compile \(module)")
                _ = try commands.run(cli, ["compile", module, "-o", output], stdio: streams.discard)
            }
            return output
        }
        // Warm the artifact cache: the first `cloister run` of each program compiles it.
        progress("engines: compiling every program once (artifact cache)")

        var table = """

            ## Engines: whole processes

            Each run is a whole process, start to exit: `cloister run --engine wasmtime` and `--engine \
            wasmkit` (the LibOS on each engine; wasmtime loads the code it compiled earlier from its \
            artifact cache), `wasmtime run --allow-precompiled` (wasmtime's own CLI on the same module, \
            precompiled with `wasmtime compile`, as the peer), and the native build (gcc -O2, or the host's \
            `python3`). Median wall time over \(options.runs) runs, variants interleaved.

            | case | variant | median wall | min wall | vs wasmtime CLI | vs native |
            |---|---|---:|---:|---:|---:|

            """
        var verdicts = """

            | target | measured | met? |
            |---|---:|:-:|

            """
        func add(_ label: String, _ samples: [String: Samples], order: [String], cliName: String?, nativeName: String?) {
            let cliMedian = cliName.flatMap { samples[$0]?.medianWall } ?? .nan
            let nativeMedian = nativeName.flatMap { samples[$0]?.medianWall } ?? .nan
            for name in order {
                guard let s = samples[name] else { continue }
                table += "| \(label) | \(name) | \(formatDuration(s.medianWall)) | \(formatDuration(s.minWall)) | "
                    + "\(formatFactor(s.medianWall / cliMedian)) | \(formatFactor(s.medianWall / nativeMedian)) |\n"
            }
        }

        let wasmtimeName = "cloister run (wasmtime)", wasmkitName = "cloister run (wasmkit)", cliName = "wasmtime CLI", nativeName = "native"
        for name in options.cpuGuests {
            let module = "\(guests)/\(name).wasm"
            var variants: [(name: String, run: (Kernel.StandardIO) throws -> Sample)] = [(wasmtimeName, cloisterRun(.wasmtime, "/bin/\(name).wasm", []))]
            if options.enginesIncludeWasmKit { variants.append((wasmkitName, cloisterRun(.wasmkit, "/bin/\(name).wasm", []))) }
            if let artifact = try precompiled(module) {
                variants.append((cliName, { stdio in try commands.run(cli!, ["run", "--allow-precompiled", artifact], stdio: stdio) }))
            }
            variants.append((nativeName, { stdio in try commands.run("\(guests)/native/\(name)", [], stdio: stdio) }))
            _ = try variants[0].run(streams.discard)
            let samples = try measure(Case(label: name, variants: variants))
            add(name, samples, order: variants.map(\.name), cliName: cliName, nativeName: nativeName)
            let ours = samples[wasmtimeName]!.medianWall
            if let cliMedian = samples[cliName]?.medianWall {
                let ratio = ours / cliMedian
                verdicts += "| \(name): cloister run (wasmtime) ≤ 1.2 × wasmtime CLI | \(formatFactor(ratio)) | \(ratio <= 1.2 ? "yes" : "no") |\n"
            }
            let native = ours / samples[nativeName]!.medianWall
            verdicts += "| \(name): cloister run (wasmtime) ≤ 1.8 × native | \(formatFactor(native)) | \(native <= 1.8 ? "yes" : "no") |\n"
        }

        if let pythonDirectory = options.pythonDirectory {
            let python = "/py/python-3.11.3.wasm"
            let loop = "s=0\nfor i in range(\(options.pythonLoopCount)): s+=i\nprint(s)"
            let host = options.hostPython
            for (label, arguments) in [("python -c pass", ["-c", "pass"]), ("python loop of \(options.pythonLoopCount)", ["-c", loop])] {
                var variants: [(name: String, run: (Kernel.StandardIO) throws -> Sample)] = [
                    (wasmtimeName, cloisterRun(.wasmtime, python, arguments))
                ]
                if options.enginesIncludeWasmKit { variants.append((wasmkitName, cloisterRun(.wasmkit, python, arguments))) }
                if let artifact = try precompiled(pythonDirectory + "/python-3.11.3.wasm") {
                    variants.append((cliName, { stdio in try commands.run(cli!, ["run", "--allow-precompiled", artifact] + arguments, stdio: stdio) }))
                }
                variants.append(("native CPython", { stdio in try commands.run(host, arguments, stdio: stdio) }))
                _ = try variants[0].run(streams.discard)
                let samples = try measure(Case(label: label, variants: variants))
                add(label, samples, order: variants.map(\.name), cliName: cliName, nativeName: "native CPython")
                if label == "python -c pass" {
                    let ours = samples[wasmtimeName]!.medianWall
                    verdicts += "| CPython `-c pass` through cloister run ≤ 100 ms | \(formatDuration(ours)) | \(ours <= 0.1 ? "yes" : "no") |\n"
                }
            }
        }
        // A Python function through `cloister function run`: a whole process, the interpreter
        // started on demand (its code from the artifact cache).
        if options.pythonDirectory != nil {
            let payload = base + "/echo.py"
            try "def entrypoint(argv):\n    return dict(zip(argv[::2], argv[1::2]))['message']\n".write(toFile: payload, atomically: true, encoding: .utf8)
            let run: (Kernel.StandardIO) throws -> Sample = { stdio in
                try commands.run(cloister, [
                    "function", "run", "--executor-type", "python", "--executor", "cpython", "--payload", payload, "--arg", "message=hello",
                ], stdio: stdio)
            }
            _ = try run(streams.discard)
            let samples = try measure(Case(label: "python function (cloister function run)", variants: [(wasmtimeName, run)]))
            let ours = samples[wasmtimeName]!.medianWall
            add("python echo through `cloister function run`", samples, order: [wasmtimeName], cliName: nil, nativeName: nil)
            verdicts += "| a Python function's cold run through `cloister function run` ≤ 250 ms | \(formatDuration(ours)) | \(ours <= 0.25 ? "yes" : "no") |\n"
        }
        return table + verdicts
    }
}

/// Runs host programs as whole processes (Foundation.Process), timed from spawn to reaping.
final class CommandRunner {
    /// Spawn + run + wait; CPU time is the child's user + system time.
    func run(_ path: String, _ arguments: [String], stdio: Kernel.StandardIO) throws -> Sample {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardInput = FileHandle(fileDescriptor: stdio.input, closeOnDealloc: false)
        process.standardOutput = FileHandle(fileDescriptor: stdio.output, closeOnDealloc: false)
        process.standardError = FileHandle(fileDescriptor: stdio.error, closeOnDealloc: false)
        // waitUntilExit() polls its run loop every 50 ms on Linux, which would swamp a 50 ms
        // run; the termination handler fires as soon as the child is reaped.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        let cpu0 = childrenCPUNanoseconds()
        let wall0 = wallNanoseconds()
        do {
            try process.run()
        } catch {
            throw BenchError("cannot start \(path): \(error)")
        }
        exited.wait()
        let wall1 = wallNanoseconds()
        let cpu1 = childrenCPUNanoseconds()
        guard process.terminationReason == .exit, process.terminationStatus == 0 else {
            throw BenchError("\(path) \(arguments.joined(separator: " ")) ended with status \(process.terminationStatus)")
        }
        return Sample(wall: Double(wall1 - wall0) / 1e9, cpu: Double(cpu1 - cpu0) / 1e9)
    }
}
