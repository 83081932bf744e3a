import Foundation
import LibOS

// 5. processes: spawn+exit latency and pipe throughput measured inside a guest (procs.wasm),
//    and kill-to-exit latency of a busy guest measured from the entry API.

extension Bench {
    func processesSection(libos: LibOSRunner) throws -> String {
        let spawns = 200
        var spawnTimes: [Double] = []
        var pipeRates: [Double] = []
        let pipeBytes: UInt64 = 256 << 20
        for run in 1...options.runs {
            progress("  run \(run)/\(options.runs) processes: spawn loop and pipe")
            let spawnLine = try libos.output("procs", arguments: ["spawn-loop", "\(spawns)"], prefix: "spawn-loop")
            spawnTimes.append(Double(spawnLine[2])! / 1e9 / Double(spawns))
            let pipeLine = try libos.output("procs", arguments: ["pipe-bench", "\(pipeBytes)"], prefix: "pipe-bench")
            pipeRates.append(Double(pipeBytes) / (Double(pipeLine[2])! / 1e9))
        }
        var kills: [Double] = []
        let killRounds = max(50, options.latencyIterations / 2)
        for round in 1...killRounds {
            if round % 10 == 0 { progress("  kill-to-exit \(round)/\(killRounds)") }
            kills.append(try libos.killToExit("procs", arguments: ["spin"]))
        }
        spawnTimes.sort()
        pipeRates.sort()
        kills.sort()
        return """

            ### Processes

            `procs.wasm` (Tests/Guests/procs.c) measures inside the guest with `CLOCK_MONOTONIC`:
            \(spawns) × (`cloister_spawn` of a child that exits at once + `cloister_wait`), and
            \(formatBytes(Double(pipeBytes))) written by a child into a pipe and checked by the parent
            (from spawn to reaping the child). Kill-to-exit: a `procs spin` guest (a loop with no
            system call) is started through the entry API and, once running, sent SIGKILL; the time
            is from `kill` to `exec` returning, over \(killRounds) rounds.

            | measure | median | min | p99 | runs |
            |---|---:|---:|---:|---:|
            | spawn + exit + wait, per child | \(formatDuration(median(spawnTimes))) | \(formatDuration(spawnTimes.first!)) | | \(options.runs) |
            | pipe throughput | \(formatBytes(median(pipeRates)))/s | \(formatBytes(pipeRates.first!))/s | | \(options.runs) |
            | kill-to-exit of a busy guest | \(formatDuration(median(kills))) | \(formatDuration(kills.first!)) | \(formatDuration(percentile(kills, 0.99))) | \(killRounds) |

            """
    }
}

extension LibOSRunner {
    /// Runs `/bin/<name>.wasm` and returns the fields of its output line starting with `prefix`.
    func output(_ name: String, arguments: [String], prefix: String) throws -> [String] {
        let output = instanceDirectory + "/bench-output.txt"
        FileManager.default.createFile(atPath: output, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: output) else { throw BenchError("cannot write \(output)") }
        defer { try? handle.close() }
        let path = "/bin/\(name).wasm"
        let pid = try kernel.createProcess(path: path, arguments: [path] + arguments, stdio: .init(input: 0, output: handle.fileDescriptor, error: 2))
        let status = try kernel.exec(pid: pid)
        let text = try String(contentsOfFile: output, encoding: .utf8)
        guard status == .exited(0), let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix) }) else {
            throw BenchError("\(name) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return line.split(separator: " ").map(String.init)
    }

    /// Starts a busy guest, waits until it runs, kills it; seconds from kill to exec returning.
    func killToExit(_ name: String, arguments: [String]) throws -> Double {
        let path = "/bin/\(name).wasm"
        let pid = try kernel.createProcess(path: path, arguments: [path] + arguments, stdio: .init(input: 0, output: 1, error: 2))
        let done = DispatchSemaphore(value: 0)
        let ended = UnsafeSendableBox(0.0)
        let kernel = self.kernel
        Thread {
            _ = try? kernel.exec(pid: pid)
            ended.value = Double(wallNanoseconds()) / 1e9
            done.signal()
        }.start()
        while !kernel.isRunning(pid: pid) { usleep(100) }
        usleep(20_000)  // into its loop
        let start = Double(wallNanoseconds()) / 1e9
        try kernel.kill(pid: pid, signal: .kill)
        done.wait()
        return ended.value - start
    }
}

/// A value written by one thread and read by another after a semaphore.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
