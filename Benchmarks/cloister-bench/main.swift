// cloister-bench: the LibOS against WasmKit's stock WASI bridge and native code, in one run.
//
//   cloister-bench [--guests DIR] [--runs N] [--warmup N] [--iterations N] [--only engines,cpu,io,latency,crypto,processes,waits,net,fuel,executors,scientific] …
//
// 1. CPU-bound guests (sha256, sieve): LibOS process vs stock WASIBridgeToHost vs the stock
//    bridge running the LibOS-instrumented module (interrupt checks) vs gcc -O2.
// 2. File I/O (fileio): LibOS on /tmp (ramfs) and /data (hostfs), the stock bridge (plain and
//    instrumented) on a host directory, native on a host directory.
// 3. create+exec+exit latency of hello.wasm under the LibOS (first = cold, then module cache),
//    against the stock bridge, with the memory each finished process leaves behind.
// 4. crypto: protected-file encrypt/decrypt throughput in memory per scheme (Crypto.swift),
//    against `openssl speed -evp aes-{128,256}-gcm`.
// 5. processes: spawn+exit latency, pipe throughput, kill-to-exit latency (Processes.swift).
// 5b. waits: latency of a poll wake-up on a LibOS pipe, ping-pong between two processes (Waits.swift).
// 5c. net: loopback TCP throughput guest↔guest and guest↔host against the same C program run
//     natively, and sendmsg over 1, 4 and 16 iovecs against a staging copy (Net.swift).
// 6. fuel: fuel WasmKit burns per CPU-second, for the CPU-time backstop (Fuel.swift).
// 7. executors: per-invocation cost of each executor, Python cold and warm start (Executors.swift).
// 9. scientific: the scientific Python executor's cold and warm start, and a 100k-row pandas join
//    and scikit-learn regression against native CPython with the same packages (Scientific.swift).
// 8. engines: whole processes — `cloister run` on wasmtime and on WasmKit, wasmtime's own CLI on
//    the same precompiled module, native — for sha256, sieve and CPython (Engines.swift).
//
// Every repetition runs the variants one after the other, so slow phases of a shared machine
// hit all of them alike; compare ratios from one run. scripts/bench.sh builds the guests and
// this tool and runs it (`make bench`). See docs/PERFORMANCE.md.

import Foundation
import LibOS

do {
    let options = try Options.parse(Array(CommandLine.arguments.dropFirst()))
    try Bench(options: options).run()
} catch let error as UsageError {
    progress("cloister-bench: \(error)\n\n\(Options.usage)")
    exit(2)
} catch {
    progress("cloister-bench: \(error)")
    exit(1)
}

struct Bench {
    let options: Options
    let guests: String
    let base: String
    let streams: StandardStreams

    init(options: Options) throws {
        self.options = options
        guests = URL(fileURLWithPath: options.guests).standardizedFileURL.path
        var template = Array((NSTemporaryDirectory() + "/cloister-bench-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw BenchError("cannot create a temporary folder") }
        base = String(cString: made)
        streams = try StandardStreams()
    }

    func run() throws {
        defer { try? FileManager.default.removeItem(atPath: base) }
        var needed: [String] = []
        if options.sections.contains("cpu") { needed += options.cpuGuests }
        if options.sections.contains("io") { needed.append("fileio") }
        for name in needed {
            if !options.variants.isDisjoint(with: ["libos", "stock", "instrumented"]) {
                try requireFile("\(guests)/\(name).wasm")
            }
            if options.variants.contains("native") { try requireFile("\(guests)/native/\(name)") }
        }
        if options.sections.contains("latency") { try requireFile("\(guests)/hello.wasm") }
        if !options.sections.isDisjoint(with: ["processes", "fuel"]) { try requireFile("\(guests)/procs.wasm") }
        if options.sections.contains("waits") { try requireFile("\(guests)/waits.wasm") }
        if options.sections.contains("net") {
            try requireFile("\(guests)/netbench.wasm")
            try requireFile("\(guests)/native/netbench")
        }
        if options.sections.contains("fuel") {
            for name in options.cpuGuests { try requireFile("\(guests)/\(name).wasm") }
        }

        var report = """
            ## Settings

            \(options.runs) timed runs per case after \(options.warmup) warm-up run(s); wall time is the whole \
            run of one guest (LibOS: create+exec+exit; stock: bridge+instantiate+_start, module parsed \
            once up front; native: spawn+wait via Foundation.Process). CPU is the thread's (wasm) or the \
            child's (native) user+system time.

            """

        // The guest runners (the LibOS instance mounts the guest folder); the crypto section needs none.
        if !options.sections.isDisjoint(with: ["cpu", "io", "latency", "processes", "waits", "fuel"]) {
            let libos = try LibOSRunner(base: base, guests: guests, engine: options.engine)
            let stock = try StockRunner(base: base, guests: guests, stackSize: options.stockStackKiB.map { $0 * 1024 })
            let native = try NativeRunner(base: base, guests: guests)
            if options.sections.contains("cpu") {
                report += try cpuSection(libos: libos, stock: stock, native: native)
            }
            if options.sections.contains("io") {
                report += try ioSection(libos: libos, stock: stock, native: native)
            }
            if options.sections.contains("latency") {
                report += try latencySection(libos: libos, stock: stock)
            }
            if options.sections.contains("processes") {
                report += try processesSection(libos: libos)
            }
            if options.sections.contains("waits") {
                report += try waitsSection(libos: libos)
            }
            if options.sections.contains("fuel") {
                report += try fuelSection(stock: stock)
            }
        }
        if options.sections.contains("net") {
            report += try netSection()  // an instance of its own, with network rules
        }
        if options.sections.contains("engines") {
            report += try enginesSection()
        }
        if options.sections.contains("crypto") {
            report += try cryptoSection()
        }
        if options.sections.contains("executors") {
            try requireFile("\(guests)/functions/echo.wasm")
            report += try executorsSection()
        }
        if options.sections.contains("scientific"), let directory = options.scientificDirectory {
            report += try scientificSection(directory: directory)
        }
        print(report, terminator: "")
    }

    private func requireFile(_ path: String) throws {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw BenchError("missing \(path): build the guests first (scripts/build-guests.sh \(options.guests))")
        }
    }

    // MARK: - Running cases

    /// A case: how to run it under each variant with the given stdio.
    struct Case {
        var label: String
        var variants: [(name: String, run: (Kernel.StandardIO) throws -> Sample)]
    }

    /// Warms up, checks that every variant printed the same line, then runs the timed
    /// repetitions interleaved. Returns the samples per variant name, in run order.
    func measure(_ benchCase: Case) throws -> [String: Samples] {
        for round in 0..<options.warmup {
            var outputs: [(String, String)] = []
            for variant in benchCase.variants {
                progress("  warm-up \(benchCase.label) / \(variant.name)")
                if round == 0 {
                    let text = try streams.capture(in: base) { stdio in _ = try variant.run(stdio) }
                    outputs.append((variant.name, text))
                } else {
                    _ = try variant.run(streams.discard)
                }
            }
            if let first = outputs.first, let other = outputs.first(where: { $0.1 != first.1 }) {
                throw BenchError(
                    "\(benchCase.label): outputs differ: \(first.0) printed \(first.1.debugDescription), \(other.0) printed \(other.1.debugDescription)")
            }
        }
        var samples: [String: Samples] = [:]
        for run in 1...options.runs {
            for variant in benchCase.variants {
                let sample = try variant.run(streams.discard)
                samples[variant.name, default: Samples()].append(sample)
                progress("  run \(run)/\(options.runs) \(benchCase.label) / \(variant.name): \(formatDuration(sample.wall))")
            }
        }
        return samples
    }

    // MARK: - 1. CPU-bound

    private func cpuSection(libos: LibOSRunner, stock: StockRunner, native: NativeRunner) throws -> String {
        let libosName = "LibOS", stockName = "stock WASI", instrumentedName = "stock WASI + interrupt checks"
        var table = """

            ## CPU-bound guests

            "\(instrumentedName)" is the stock bridge running the module after the LibOS's own load-time \
            rewrite (a test of the interrupt flag at every function entry and loop head), which \
            separates the cost of that rewrite from the cost of the LibOS's system-call layer.

            | guest | variant | median wall | min wall | median CPU | vs stock (median) | vs native (median) |
            |---|---|---:|---:|---:|---:|---:|

            """
        var ratios = """

            LibOS / stock ratios (target ≤ 1.03). "paired" is the median over repetitions of the ratio of \
            the two runs made back to back; "CPU" compares median thread CPU time, which waiting for a \
            busy CPU does not inflate. The verdict uses the wall-time medians. The "checks alone" columns \
            are the cost of the interrupt checks (instrumented / stock: wall medians, the median of the \
            back-to-back pairs, median CPU; target ≤ 1.10); "rest of LibOS" is everything else the LibOS \
            adds (LibOS / instrumented).

            | guest | wall, median | wall, min | wall, paired | CPU, median | ≤ 1.03? | checks alone | checks alone, paired | checks alone, CPU | rest of LibOS | stock / native | LibOS / native |
            |---|---:|---:|---:|---:|:-:|---:|---:|---:|---:|---:|---:|

            """
        for name in options.cpuGuests {
            progress("cpu: \(name)")
            var variants: [(name: String, run: (Kernel.StandardIO) throws -> Sample)] = []
            if options.variants.contains("libos") {
                variants.append((libosName, { try libos.run(name, arguments: [], stdio: $0) }))
            }
            if options.variants.contains("stock") {
                _ = try stock.module(name)  // parse before anything is timed
                variants.append((stockName, { try stock.run(name, arguments: [], stdio: $0) }))
            }
            if options.variants.contains("instrumented") {
                _ = try stock.module(name, instrumented: true)
                variants.append((instrumentedName, { try stock.run(name, instrumented: true, arguments: [], stdio: $0) }))
            }
            if options.variants.contains("native") {
                variants.append(("native", { try native.run(name, arguments: [], stdio: $0) }))
            }
            let samples = try measure(Case(label: name, variants: variants))
            let stockMedian = samples[stockName]?.medianWall ?? .nan
            let nativeMedian = samples["native"]?.medianWall ?? .nan
            for variant in variants {
                let s = samples[variant.name]!
                table += "| \(name) | \(variant.name) | \(formatDuration(s.medianWall)) | \(formatDuration(s.minWall)) | "
                table += "\(formatDuration(s.medianCPU)) | \(formatRatio(s.medianWall / stockMedian)) | \(formatFactor(s.medianWall / nativeMedian)) |\n"
            }
            if let s = samples[stockName], samples[libosName] != nil || samples[instrumentedName] != nil {
                // A variant left out with --variants gives "—" in its columns.
                let l = samples[libosName] ?? Samples(values: [Sample(wall: .nan, cpu: .nan)])
                let paired = median(zip(l.values, s.values).map { $0.wall / $1.wall }.sorted())
                let ratio = l.medianWall / s.medianWall
                let instrumented = samples[instrumentedName]?.medianWall ?? .nan
                let checksPaired = samples[instrumentedName].map { i in median(zip(i.values, s.values).map { $0.wall / $1.wall }.sorted()) } ?? .nan
                let checksCPU = (samples[instrumentedName]?.medianCPU ?? .nan) / s.medianCPU
                ratios += "| \(name) | \(formatRatio(ratio)) | \(formatRatio(l.minWall / s.minWall)) | \(formatRatio(paired)) | "
                ratios += "\(formatRatio(l.medianCPU / s.medianCPU)) | \(ratio.isNaN ? "—" : ratio <= 1.03 ? "yes" : "**no**") | "
                ratios += "\(formatRatio(instrumented / s.medianWall)) | \(formatRatio(checksPaired)) | \(formatRatio(checksCPU)) | "
                ratios += "\(formatRatio(l.medianWall / instrumented)) | "
                ratios += "\(formatFactor(s.medianWall / nativeMedian)) | \(formatFactor(l.medianWall / nativeMedian)) |\n"
            }
        }
        return table + ratios
    }

    // MARK: - 2. File I/O

    private func ioSection(libos: LibOSRunner, stock: StockRunner, native: NativeRunner) throws -> String {
        progress("io: fileio \(options.fileioMiB) MiB in \(options.fileioChunkKiB) KiB chunks")
        let size = ["\(options.fileioMiB)", "\(options.fileioChunkKiB)"]
        var variants: [(name: String, run: (Kernel.StandardIO) throws -> Sample)] = []
        if options.variants.contains("libos") {
            for directory in options.libosIODirectories {
                let label = directory == "/tmp" ? "LibOS /tmp (ramfs)" : "LibOS /data (hostfs)"
                variants.append((label, { try libos.run("fileio", arguments: [directory] + size, stdio: $0) }))
            }
        }
        if options.variants.contains("stock") {
            _ = try stock.module("fileio")
            variants.append(("stock WASI /data (host dir)", { try stock.run("fileio", arguments: ["/data"] + size, stdio: $0) }))
        }
        if options.variants.contains("instrumented") {
            _ = try stock.module("fileio", instrumented: true)
            variants.append(("stock WASI + interrupt checks /data (host dir)", {
                try stock.run("fileio", instrumented: true, arguments: ["/data"] + size, stdio: $0)
            }))
        }
        if options.variants.contains("native") {
            variants.append(("native (host dir)", { try native.run("fileio", arguments: [native.dataDirectory] + size, stdio: $0) }))
        }
        let samples = try measure(Case(label: "fileio", variants: variants))
        let nativeMedian = samples["native (host dir)"]?.medianWall ?? .nan
        let stockMedian = samples["stock WASI /data (host dir)"]?.medianWall ?? .nan
        let instrumentedMedian = samples["stock WASI + interrupt checks /data (host dir)"]?.medianWall ?? .nan
        let megabytes = Double(2 * options.fileioMiB)
        var table = """

            ## File I/O: fileio, write then read back \(options.fileioMiB) MiB in \(options.fileioChunkKiB) KiB chunks

            Host folders are under \(NSTemporaryDirectory()) (hostfs and native alike). Throughput counts \
            the bytes written plus the bytes read. The guest also computes (it fills and checksums every \
            chunk), so the interrupt checks cost here too: compare the LibOS rows with "stock WASI + \
            interrupt checks" for the cost of the LibOS's file system layers alone.

            | variant | median wall | min wall | median CPU | throughput | vs stock (median) | vs stock + checks (median) | vs native (median) |
            |---|---:|---:|---:|---:|---:|---:|---:|

            """
        for variant in variants {
            let s = samples[variant.name]!
            table += "| \(variant.name) | \(formatDuration(s.medianWall)) | \(formatDuration(s.minWall)) | \(formatDuration(s.medianCPU)) | "
            table += String(format: "%.0f MiB/s", megabytes / s.medianWall)
            table += " | \(formatRatio(s.medianWall / stockMedian)) | \(formatRatio(s.medianWall / instrumentedMedian))"
            table += " | \(formatFactor(s.medianWall / nativeMedian)) |\n"
        }
        return table
    }

    // MARK: - 3. create+exec+exit latency

    private func latencySection(libos: LibOSRunner, stock: StockRunner) throws -> String {
        let iterations = options.latencyIterations
        // label, first (cold) time, warm times, memory growth per iteration (virtual, resident)
        var rows: [(String, Double, [Double], (Double, Double))] = []
        if options.variants.contains("libos") {
            progress("latency: LibOS create+exec+exit of hello.wasm × \(iterations)")
            ProgramCache.shared.removeAll()  // the first iteration parses: the cold start
            var times: [Double] = []
            times.append(try libos.run("hello", arguments: [], stdio: streams.discard).wall)
            let before = processMemory()
            for _ in 1..<iterations {
                times.append(try libos.run("hello", arguments: [], stdio: streams.discard).wall)
            }
            let after = processMemory()
            let n = Double(iterations - 1)
            rows.append(("LibOS create+exec+exit", times[0], Array(times.dropFirst()),
                         ((after.virtual - before.virtual) / n, (after.resident - before.resident) / n)))
        }
        if options.variants.contains("stock") {
            progress("latency: stock WASI instantiate+run of hello.wasm × \(iterations)")
            var times: [Double] = []
            let wall0 = wallNanoseconds()
            let module = try stock.parse("hello")
            let parse = Double(wallNanoseconds() - wall0) / 1e9
            times.append(parse + (try stock.run("hello", module: module, arguments: [], stdio: streams.discard).wall))
            let before = processMemory()
            for _ in 1..<iterations {
                times.append(try stock.run("hello", module: module, arguments: [], stdio: streams.discard).wall)
            }
            let after = processMemory()
            let n = Double(iterations - 1)
            rows.append(("stock WASI parse+instantiate+run", times[0], Array(times.dropFirst()),
                         ((after.virtual - before.virtual) / n, (after.resident - before.resident) / n)))
        }
        var table = """

            ## Process latency: hello.wasm, \(iterations) iterations

            The first iteration is cold (the module is read and parsed, and for the LibOS instrumented; \
            the LibOS's module cache is emptied first); the statistics cover the \(iterations - 1) warm \
            ones (LibOS: module cache hit; stock: module parsed once). The last two columns are how much \
            the benchmark process's mapped and resident memory grew per warm iteration (/proc/self/statm): \
            anything but about zero means each finished process leaves memory behind.

            | case | first (cold) | median | p99 | min | max | mapped growth / iteration | resident growth / iteration |
            |---|---:|---:|---:|---:|---:|---:|---:|

            """
        for (label, first, warm, growth) in rows {
            let sorted = warm.sorted()
            table += "| \(label) | \(formatDuration(first)) | \(formatDuration(median(sorted))) | "
            table += "\(formatDuration(percentile(sorted, 99))) | \(formatDuration(sorted.first!)) | \(formatDuration(sorted.last!)) | "
            table += "\(formatBytes(growth.0)) | \(formatBytes(growth.1)) |\n"
        }
        return table
    }
}
