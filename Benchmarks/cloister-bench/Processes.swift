import Foundation
import LibOS

// 5. processes: spawn+exit latency and pipe throughput measured inside a guest (procs.wasm),
//    and kill-to-exit latency of a busy guest measured from the entry API.

extension Bench {
    func processesSection(libos: LibOSRunner) throws -> String {
        let loopSpawns = 200
        let singleSpawns = options.latencyIterations
        let killRounds = options.latencyIterations
        let pipeBytes: UInt64 = 1 << 30  // one 64 KiB block repeated, checked sparsely
        let fullBytes: UInt64 = 256 << 20  // every byte computed and checked
        // Warm the module cache (the first load of procs.wasm validates and instruments it).
        _ = try libos.output("procs", arguments: ["spawn-loop", "1"], prefix: "spawn-loop")

        // Per-child distribution: `spawn-loop 1` times exactly one spawn + wait inside the guest.
        var spawnTimes: [Double] = []
        for round in 1...singleSpawns {
            if round % 50 == 0 { progress("  spawn+wait \(round)/\(singleSpawns)") }
            let line = try libos.output("procs", arguments: ["spawn-loop", "1"], prefix: "spawn-loop")
            spawnTimes.append(Double(line[2])! / 1e9)
        }
        // Means over a loop of spawns in one parent, the pipe, and the writer alone.
        var loopMeans: [Double] = []
        var pipeRates: [Double] = []
        var fullRates: [Double] = []
        var writerRates: [Double] = []
        for run in 1...options.runs {
            progress("  run \(run)/\(options.runs) processes: spawn loop, pipe, writer alone")
            let spawnLine = try libos.output("procs", arguments: ["spawn-loop", "\(loopSpawns)"], prefix: "spawn-loop")
            loopMeans.append(Double(spawnLine[2])! / 1e9 / Double(loopSpawns))
            let pipeLine = try libos.output("procs", arguments: ["pipe-bench", "\(pipeBytes)"], prefix: "pipe-bench")
            pipeRates.append(Double(pipeBytes) / (Double(pipeLine[2])! / 1e9))
            let fullLine = try libos.output("procs", arguments: ["pipe-bench", "\(fullBytes)", "full"], prefix: "pipe-bench")
            fullRates.append(Double(fullBytes) / (Double(fullLine[2])! / 1e9))
            // The full writer with its stdout on /dev/null: what computing the bytes costs alone.
            let writer = try libos.run("procs", arguments: ["child-write", "\(fullBytes)"], stdio: streams.discard)
            writerRates.append(Double(fullBytes) / writer.wall)
        }
        // For comparison: the same child program started from the host (entry API), and a kill of
        // a guest that is blocked in the kernel (a sleep) instead of running guest code.
        var hostStarts: [Double] = []
        for _ in 1...singleSpawns {
            hostStarts.append(try libos.run("procs", arguments: ["exit", "0"], stdio: streams.discard).wall)
        }
        var kills: [Double] = []
        var sleeperKills: [Double] = []
        for round in 1...killRounds {
            if round % 50 == 0 { progress("  kill-to-exit \(round)/\(killRounds)") }
            kills.append(try libos.killToExit("procs", arguments: ["spin"]))
            sleeperKills.append(try libos.killToExit("procs", arguments: ["sleep"]))
        }
        spawnTimes.sort()
        loopMeans.sort()
        pipeRates.sort()
        fullRates.sort()
        writerRates.sort()
        kills.sort()
        hostStarts.sort()
        sleeperKills.sort()
        func rate(_ bytesPerSecond: Double) -> String { String(format: "%.1f MB/s", bytesPerSecond / 1e6) }
        return """

            ## Processes

            `procs.wasm` (Tests/Guests/procs.c) times itself with `CLOCK_MONOTONIC`. Spawn + wait: \
            `procs spawn-loop 1` run \(singleSpawns) times, each timing one `cloister_spawn` of a child \
            that exits at once plus its `cloister_wait` (the per-child distribution); and \
            `procs spawn-loop \(loopSpawns)` (\(loopSpawns) children in a row, the mean per child) once per \
            run. Pipe: `procs pipe-bench \(pipeBytes)`: a child writes \(formatBytes(Double(pipeBytes))) \
            into a LibOS pipe in 64 KiB writes (one 64 KiB block, computed once), the parent reads it in \
            64 KiB reads and checks the byte count and one byte in every 4 KiB; timed from the spawn to \
            reaping the child. `procs pipe-bench \(fullBytes) full` does the same with \
            \(formatBytes(Double(fullBytes))) whose every byte the child computes and the parent checks; \
            "writer alone" is that child (`procs child-write \(fullBytes)`) with its stdout on /dev/null \
            (timed from the host, create+exec+exit), i.e. the interpreter's cost of computing the bytes. \
            MB/s is 10^6 bytes per second. Kill-to-exit: a `procs spin` guest (a loop with no system \
            call) is started through the entry API on its own host thread; 20 ms after it is running, \
            `Kernel.kill(pid:signal: .kill)`; the time is from `kill` to `exec` returning, over \
            \(killRounds) rounds. For comparison, the same with `procs sleep` (blocked in the kernel, \
            not running guest code), and `procs exit 0` created, executed and reaped from the host \
            (entry API: the cost of starting and ending that program without a guest parent).

            | measure | median | min | p99 | max | samples |
            |---|---:|---:|---:|---:|---:|
            | spawn + exit + wait, one child | \(formatDuration(median(spawnTimes))) | \(formatDuration(spawnTimes.first!)) | \(formatDuration(percentile(spawnTimes, 99))) | \(formatDuration(spawnTimes.last!)) | \(singleSpawns) |
            | spawn + exit + wait, mean over \(loopSpawns) in a row | \(formatDuration(median(loopMeans))) | \(formatDuration(loopMeans.first!)) | | \(formatDuration(loopMeans.last!)) | \(options.runs) runs |
            | for comparison: `procs exit 0` create+exec+exit from the host | \(formatDuration(median(hostStarts))) | \(formatDuration(hostStarts.first!)) | \(formatDuration(percentile(hostStarts, 99))) | \(formatDuration(hostStarts.last!)) | \(singleSpawns) |
            | kill-to-exit of a busy guest | \(formatDuration(median(kills))) | \(formatDuration(kills.first!)) | \(formatDuration(percentile(kills, 99))) | \(formatDuration(kills.last!)) | \(killRounds) |
            | for comparison: kill-to-exit of a sleeping guest | \(formatDuration(median(sleeperKills))) | \(formatDuration(sleeperKills.first!)) | \(formatDuration(percentile(sleeperKills, 99))) | \(formatDuration(sleeperKills.last!)) | \(killRounds) |

            | throughput | median | best | worst | runs |
            |---|---:|---:|---:|---:|
            | pipe, child → parent, \(formatBytes(Double(pipeBytes))) (block repeated, sparse check) | \(rate(median(pipeRates))) | \(rate(pipeRates.last!)) | \(rate(pipeRates.first!)) | \(options.runs) |
            | pipe, child → parent, \(formatBytes(Double(fullBytes))), every byte computed and checked | \(rate(median(fullRates))) | \(rate(fullRates.last!)) | \(rate(fullRates.first!)) | \(options.runs) |
            | writer alone (computing every byte), stdout on /dev/null | \(rate(median(writerRates))) | \(rate(writerRates.last!)) | \(rate(writerRates.first!)) | \(options.runs) |

            """
    }
}

extension LibOSRunner {
    /// Runs `/bin/<name>.wasm` and returns the fields of its output line starting with `prefix`.
    func output(_ name: String, arguments: [String], prefix: String) throws -> [String] {
        let output = instanceDirectory + "/bench-output.txt"
        _ = FileManager.default.createFile(atPath: output, contents: nil)
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
        let status = UnsafeSendableBox<WaitStatus?>(nil)
        let kernel = self.kernel
        Thread {
            status.value = try? kernel.exec(pid: pid)
            ended.value = Double(wallNanoseconds()) / 1e9
            done.signal()
        }.start()
        while !kernel.isRunning(pid: pid) { usleep(100) }
        usleep(20_000)  // into its loop
        let start = Double(wallNanoseconds()) / 1e9
        try kernel.kill(pid: pid, signal: .kill)
        done.wait()
        guard let ending = status.value, ending.signal == .kill else {
            throw BenchError("kill-to-exit: \(name) \(arguments.joined(separator: " ")) ended with \(String(describing: status.value))")
        }
        return ended.value - start
    }
}

/// A value written by one thread and read by another after a semaphore.
final class UnsafeSendableBox<T>: @unchecked Sendable {
    var value: T
    init(_ value: T) { self.value = value }
}
