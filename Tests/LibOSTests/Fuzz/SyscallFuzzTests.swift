import Foundation
import Testing
@testable import LibOS

/// The syscall fuzzer (``SyscallFuzzer``): a bounded run of fixed seeds in every `swift test`,
/// the seeds that once found a bug, and the long run `make fuzz` starts.
@Suite(.serialized) struct SyscallFuzzTests {
    /// Every syscall the kernel itself provides (an embedder's registered modules are its own) has a recipe whose arity matches its parameters, so the
    /// fuzzer reaches all of them (a new syscall without a recipe fails here).
    @Test func everySyscallHasARecipe() throws {
        for (module, table) in SyscallTable.builtIn {
            for (name, syscall) in table {
                let recipe = try #require(SyscallRecipes.all["\(module).\(name)"], "\(module).\(name) has no fuzz recipe")
                #expect(recipe.reduce(0) { $0 + $1.arity } == syscall.parameters.count, "\(module).\(name)")
            }
        }
        let names = Set(SyscallTable.builtIn.flatMap { module, table in table.keys.map { "\(module).\($0)" } })
        #expect(Set(SyscallRecipes.all.keys) == names)
    }

    /// The seeds that found bugs before they were fixed; each must now run clean.
    @Test func regressionSeedsRunClean() throws {
        for regression in FuzzRegressions.all {
            var options = SyscallFuzzer.Options()
            options.only = regression.syscalls
            let fuzzer = try SyscallFuzzer(options: options)
            fuzzer.run(seeds: [regression.seed])
            #expect(fuzzer.findings.map(\.description) == [], "once found: \(regression.found)")
            #expect(fuzzer.statistics.executions == 1)
        }
    }

    /// A bounded run of fixed seeds: every WASI and cloister call with random arguments, standard
    /// streams in every state, threads, children and clocks. Well under a minute in release.
    @Test func boundedRunFindsNothing() throws {
        let fuzzer = try SyscallFuzzer()
        fuzzer.run(seeds: 1...300)
        let statistics = fuzzer.statistics
        print(SyscallFuzzTests.report(statistics, seconds: nil, findings: fuzzer.findings))
        #expect(fuzzer.findings.map(\.description) == [])
        #expect(statistics.executions == 300)
        // It reached every syscall, and both ready and not-ready streams.
        #expect(Set(statistics.callsBySyscall.keys).count > fuzzer.syscallNames.count * 3 / 4)
        #expect(statistics.streamStates.keys.contains { $0.contains("stdin=empty-pipe") })
        #expect(statistics.streamStates.keys.contains { $0.contains("stdout=full-pipe") })
    }

    /// The long run: `make fuzz` (or `CLOISTER_FUZZ_SECONDS=N swift test -c release --filter
    /// SyscallFuzzTests/longRun`). `CLOISTER_FUZZ_SEED` picks the first seed (default: random,
    /// printed), `CLOISTER_FUZZ_EXECUTIONS` stops after that many executions,
    /// `CLOISTER_FUZZ_TRACE` names a file that records each execution before it starts (and, with
    /// `CLOISTER_FUZZ_TRACE_CALLS=1`, each call before it is made), `CLOISTER_FUZZ_SYSCALLS` keeps
    /// only the syscalls whose names contain one of its comma-separated words.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CLOISTER_FUZZ_SECONDS"] != nil))
    func longRun() throws {
        let environment = ProcessInfo.processInfo.environment
        let seconds = Double(environment["CLOISTER_FUZZ_SECONDS"] ?? "") ?? 60
        let first = UInt64(environment["CLOISTER_FUZZ_SEED"] ?? "") ?? UInt64.random(in: 1...(1 << 40))
        var options = SyscallFuzzer.Options()
        options.tracePath = environment["CLOISTER_FUZZ_TRACE"]
        options.traceCalls = environment["CLOISTER_FUZZ_TRACE_CALLS"] == "1"
        options.only = (environment["CLOISTER_FUZZ_SYSCALLS"] ?? "").split(separator: ",").map(String.init)
        let executions = UInt64(environment["CLOISTER_FUZZ_EXECUTIONS"] ?? "") ?? UInt64.max
        let fuzzer = try SyscallFuzzer(options: options)
        print("fuzz: seeds from \(first), for \(seconds) s")
        let start = monotonicNanoseconds()
        let deadline = start + UInt64(seconds * 1e9)
        var next = first
        let last = executions == .max ? UInt64.max : first + executions
        while monotonicNanoseconds() < deadline, next < last, fuzzer.hangs < SyscallFuzzer.maximumHangs {
            let batch = min(50, last - next)
            fuzzer.run(seeds: next..<(next + batch), until: deadline)
            next += batch
            let elapsed = Double(monotonicNanoseconds() - start) / 1e9
            print("fuzz: \(fuzzer.statistics.executions) executions, \(fuzzer.statistics.calls) calls, "
                + "\(Int(Double(fuzzer.statistics.calls) / elapsed)) calls/s, \(fuzzer.findings.count) findings")
        }
        let elapsed = Double(monotonicNanoseconds() - start) / 1e9
        print(SyscallFuzzTests.report(fuzzer.statistics, seconds: elapsed, findings: fuzzer.findings))
        #expect(fuzzer.findings.map(\.description) == [])
    }

    static func report(_ statistics: SyscallFuzzer.Statistics, seconds: Double?, findings: [SyscallFuzzer.Finding]) -> String {
        var lines = ["fuzz: \(statistics.executions) executions, \(statistics.calls) calls to \(statistics.callsBySyscall.count) syscalls, "
            + "\(statistics.threadsSpawned) threads, \(statistics.killedByWatchdog) killed by the watchdog"]
        if let seconds {
            lines.append(String(format: "fuzz: %.1f s, %.1f executions/s, %.0f calls/s", seconds, Double(statistics.executions) / seconds, Double(statistics.calls) / seconds))
        }
        let errnos = statistics.errnos.sorted { $0.value > $1.value }.prefix(12).map { "\(Errno($0.key).name)=\($0.value)" }
        lines.append("fuzz: errnos \(errnos.joined(separator: " "))")
        lines.append("fuzz: findings: \(findings.isEmpty ? "none" : findings.map(\.description).joined(separator: "\n  "))")
        return lines.joined(separator: "\n")
    }
}
