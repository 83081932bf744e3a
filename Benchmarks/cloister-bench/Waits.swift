import Foundation
import LibOS

// waits: latency of a poll wake-up on a LibOS pipe. `waits.wasm ping-pong N` (Tests/Guests/waits.c)
// bounces one byte N times between two processes through two pipes, each side waiting in libc's
// poll() before it reads; it times the N round trips itself. Each round trip is two wake-ups.

extension Bench {
    func waitsSection(libos: LibOSRunner) throws -> String {
        let rounds = options.pingPongRounds
        let instance = base + "/waits-instance"
        try FileManager.default.createDirectory(atPath: instance, withIntermediateDirectories: true)
        try """
            {
              "resource_limits": { "user_space_size": "1GB", "max_num_of_processes": 16, "max_num_of_threads": 32 },
              "process": { "default_stack_size": "1MB", "default_heap_size": "64MB" },
              "entry_points": ["/bin"],
              "env": { "default": ["PATH=/bin"], "untrusted": [] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": \(jsonString(guests)), "options": { "read_only": "true" } }
              ],
              "metadata": { "debuggable": false }
            }
            """.write(toFile: instance + "/Cloister.json", atomically: true, encoding: .utf8)
        let arguments = ["ping-pong", "\(rounds)"]
        /// Seconds per round trip, from the guest's own line.
        func perRound(_ line: [String]) -> Double { Double(line[2])! / 1e9 / Double(rounds) }
        let output = base + "/waits-output.txt"
        let commands = CommandRunner()
        /// `cloister run` of the guest as a whole process: the line it printed.
        func cloisterRun(_ cloister: String) throws -> [String] {
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: output) else { throw BenchError("cannot write \(output)") }
            defer { try? handle.close() }
            _ = try commands.run(
                cloister, ["run", "--instance", instance, "/bin/waits.wasm"] + arguments,
                stdio: .init(input: streams.discard.input, output: handle.fileDescriptor, error: 2))
            let text = try String(contentsOfFile: output, encoding: .utf8)
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("ping-pong ") }) else {
                throw BenchError("\(cloister) run waits.wasm ping-pong printed: \(text)")
            }
            return line.split(separator: " ").map(String.init)
        }
        var variants: [(name: String, run: () throws -> [String])] = [
            ("this build, in process (entry API)", { try libos.output("waits", arguments: arguments, prefix: "ping-pong") })
        ]
        if let cloister = options.cloister { variants.append(("this build, `cloister run`", { try cloisterRun(cloister) })) }
        if let baseline = options.baselineCloister { variants.append(("baseline, `cloister run` (\(baseline))", { try cloisterRun(baseline) })) }
        for variant in variants { _ = try variant.run() }  // warm-up: module and artifact caches
        var samples = [[Double]](repeating: [], count: variants.count)
        for run in 1...options.runs {
            progress("  run \(run)/\(options.runs) waits: ping-pong \(rounds)")
            for (index, variant) in variants.enumerated() { samples[index].append(perRound(try variant.run())) }
        }
        var table = """

            ## Poll wake-up latency on a pipe

            `waits.wasm ping-pong \(rounds)` (Tests/Guests/waits.c): a parent and the child it spawns \
            bounce one byte \(rounds) times through two LibOS pipes; each side waits in libc's `poll()` \
            (`poll_oneoff`) on its read end, then reads and answers. The guest times the \(rounds) round \
            trips with `CLOCK_MONOTONIC` (after one untimed round); a round trip is two poll wake-ups \
            and two one-byte writes and reads. \(options.runs) runs per variant, interleaved, after one \
            warm-up each. "baseline" is another `cloister` build given with `--baseline-cloister`.

            | variant | round trip, median | min | max | per wake-up (median / 2) | runs |
            |---|---:|---:|---:|---:|---:|

            """
        for (index, variant) in variants.enumerated() {
            let sorted = samples[index].sorted()
            table += "| \(variant.name) | \(formatDuration(median(sorted))) | \(formatDuration(sorted.first!)) | "
                + "\(formatDuration(sorted.last!)) | \(formatDuration(median(sorted) / 2)) | \(sorted.count) |\n"
        }
        return table
    }
}
