import Foundation
import LibOS

/// One run of a function payload as a LibOS process, in a kernel of its own: an in-memory root
/// that holds the payload and the function's files — `/inputs/<name>` (decrypted before the run)
/// and `/outputs/<name>` (encrypted with their owners' keys after it) — the network the run was
/// given (none by default), and the run's limits (memory, CPU time, deadline).
///
/// The plaintext of the files lives only in the sandbox's memory, never on the host's disk.
final class FunctionSandbox: @unchecked Sendable {
    let kernel: Kernel
    let limits: FunctionLimits

    /// Room for outputs and scratch files in the in-memory root, beyond the staged inputs.
    static let scratchSpace: UInt64 = 1 << 30
    /// The most bytes kept of a function's standard output and of its standard error.
    static let streamLimit = 1 << 20

    /// A sandbox for a run under `limits` whose inputs total `inputBytes`, made as `configuration`
    /// says; `mounts` are added to the in-memory root (a read-only runtime folder), programs may
    /// start from `entryPoints`, and reach what `network` allows.
    init(
        limits: FunctionLimits, inputBytes: UInt64, configuration: SandboxConfiguration, mounts: [MountConfig] = [],
        entryPoints: [String] = ["/bin"], environment: [String] = [], network: NetworkConfig = .none
    ) throws(ExecutorError) {
        self.limits = limits
        let config = InstanceConfig(
            resourceLimits: ResourceLimits(
                userSpaceSize: limits.memory + inputBytes + Self.scratchSpace, maxNumOfProcesses: 8, maxNumOfThreads: 16),
            process: ProcessDefaults(
                defaultStackSize: 4 << 20, defaultHeapSize: limits.memory, cpuTimeLimit: limits.cpuTime, wallTimeLimit: nil),
            entryPoints: entryPoints,
            environment: EnvironmentConfig(defaults: environment.compactMap(EnvironmentVariable.init(parsing:)), untrusted: []),
            mounts: [MountConfig(target: "/", type: .ramfs), MountConfig(target: "/dev", type: .devfs)] + mounts,
            debuggable: false, network: network)
        do {
            kernel = try Kernel(
                instanceDirectory: FileManager.default.temporaryDirectory.path, config: config, engine: configuration.engine,
                cacheDirectory: configuration.cacheDirectory)
            for folder in ["/bin", FunctionFileModule.inputsDirectory, FunctionFileModule.outputsDirectory, "/tmp"] {
                try kernel.createGuestDirectory(folder)
            }
        } catch {
            throw .unavailable("cannot create the function's sandbox: \(error.reason.isEmpty ? error.name : error.reason)")
        }
    }

    deinit { try? kernel.shutdown() }

    /// The total size of `runtime`'s inputs as staged on the host (a bound on their plaintext).
    static func inputBytes(of runtime: FunctionRuntime) -> UInt64 {
        runtime.inputs.values.reduce(0) { total, file in
            let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? UInt64) ?? 0
            return total + (size ?? 0)
        }
    }

    // MARK: Files

    /// Writes `bytes` to the guest file at `path`.
    func writeFile(_ path: String, _ bytes: [UInt8]) throws(ExecutorError) {
        try sandboxCall("write \(path)") { () throws(Errno) in
            let file = try kernel.createGuestFile(path)
            defer { file.close() }
            try file.write(bytes)
        }
    }

    /// Reads the whole guest file at `path`.
    func readFile(_ path: String) throws(ExecutorError) -> [UInt8] {
        try sandboxCall("read \(path)") { () throws(Errno) in
            let file = try kernel.openGuestFile(path)
            defer { file.close() }
            return try file.readAll()
        }
    }

    /// Decrypts every input of `runtime` into `/inputs/<name>`, and creates every declared output
    /// as an empty `/outputs/<name>`.
    func stageFiles(of runtime: FunctionRuntime) throws(ExecutorError) {
        for name in runtime.inputs.keys.sorted() {
            try Self.checkFileName(name, kind: "input")
            let input = try runtime.openInput(name)
            let path = FunctionFileModule.inputsDirectory + "/" + name
            let file = try sandboxCall("stage input \(name)") { () throws(Errno) in try kernel.createGuestFile(path) }
            defer { file.close() }
            while true {
                let chunk = try input.read(maxCount: 1 << 16)
                if chunk.isEmpty { break }
                try sandboxCall("stage input \(name)") { () throws(Errno) in try file.write(chunk) }
            }
        }
        for name in runtime.outputs.keys.sorted() {
            try Self.checkFileName(name, kind: "output")
            try writeFile(FunctionFileModule.outputsDirectory + "/" + name, [])
        }
    }

    /// Encrypts every declared output from `/outputs/<name>` through `runtime.createOutput`. A
    /// file in /outputs that was not declared fails the run, before any output is written.
    func collectOutputs(into runtime: FunctionRuntime) throws(ExecutorError) {
        let entries = try sandboxCall("list /outputs") { () throws(Errno) in
            try kernel.guestDirectoryEntries(FunctionFileModule.outputsDirectory)
        }
        let declared = runtime.outputs.keys.sorted()
        if let stray = entries.map(\.name).sorted().first(where: { runtime.outputs[$0] == nil }) {
            throw .undeclaredOutput(name: stray, declared: declared)
        }
        for name in declared {
            let output = try runtime.createOutput(name)
            let path = FunctionFileModule.outputsDirectory + "/" + name
            let file = try sandboxCall("collect output \(name)") { () throws(Errno) in try kernel.openGuestFile(path) }
            defer { file.close() }
            while true {
                let chunk = try sandboxCall("collect output \(name)") { () throws(Errno) in try file.read(maxCount: 1 << 16) }
                if chunk.isEmpty { break }
                try output.write(chunk)
            }
            try output.close()
        }
    }

    // MARK: Running

    /// How a run ended: the process's status and what it wrote to its standard streams.
    struct Outcome {
        var status: WaitStatus
        var standardOutput: [UInt8]
        var standardError: [UInt8]
        var timedOut: Bool
        var canceled: Bool
    }

    /// Creates the process for `path` (absolute guest path) with `arguments`, starting at `entry`.
    func createProcess(path: String, arguments: [String], entry: ProgramEntry, stdio: Kernel.StandardIO) throws(ExecutorError) -> Int32 {
        do {
            return try kernel.createProcess(path: path, arguments: arguments, stdio: stdio, entry: entry)
        } catch {
            throw Self.failure(starting: error)
        }
    }

    /// Runs process `pid` on the calling thread under the deadline, cancelable through `runtime`.
    /// The deadline counts from this call.
    func execute(pid: Int32, runtime: FunctionRuntime) throws(ExecutorError) -> (status: WaitStatus, timedOut: Bool) {
        runtime.noteEngine(kernel.engineKind)
        let kill: @Sendable () -> Void = { [weak kernel = self.kernel] in try? kernel?.kill(pid: pid, signal: .kill) }
        let watchdog = Watchdog(after: limits.timeout, kill)
        defer { watchdog.stop() }
        let status = try runtime.whileCancelable(kill) { () throws(ExecutorError) -> WaitStatus in
            do throws(Errno) {
                return try kernel.exec(pid: pid)
            } catch {
                throw Self.failure(starting: error)
            }
        }
        return (status, watchdog.stop())
    }

    /// Runs `path` to its end with fresh collectors for its standard output and error.
    func run(path: String, arguments: [String], entry: ProgramEntry, runtime: FunctionRuntime) throws(ExecutorError) -> Outcome {
        let output = try OutputCollector(limit: Self.streamLimit)
        let error = try OutputCollector(limit: Self.streamLimit)
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(devNull) }
        let pid = try createProcess(
            path: path, arguments: arguments, entry: entry,
            stdio: Kernel.StandardIO(input: devNull, output: output.writeDescriptor, error: error.writeDescriptor))
        let (status, timedOut) = try execute(pid: pid, runtime: runtime)
        return Outcome(
            status: status, standardOutput: output.finish().bytes, standardError: error.finish().bytes,
            timedOut: timedOut, canceled: runtime.isCanceled)
    }

    /// The error a run that ended with `status` failed with, or nil when it succeeded (exit 0).
    /// `errorText` is the process's standard error, whose last line explains a non-zero exit.
    static func failure(of status: WaitStatus, timedOut: Bool, canceled: Bool, limits: FunctionLimits, errorText: String) -> ExecutorError? {
        let reason = status.reason ?? ""
        if canceled, status.signal == .kill { return .canceled }
        if timedOut, status.signal == .kill { return .deadlineExceeded("the function ran longer than \(limits.timeoutText)") }
        if reason.hasPrefix("out of memory: ") { return .outOfMemory(String(reason.dropFirst("out of memory: ".count))) }
        if status.signal == .cpuLimit { return .cpuTimeExceeded(reason.isEmpty ? "killed by SIGXCPU" : reason) }
        if let signal = status.signal { return .trapped(reason.isEmpty ? "killed by \(signal)" : reason) }
        if let code = status.exitCode, code != 0 {
            return .exited(code: code, detail: lastLine(of: errorText))
        }
        return nil
    }

    /// `failure`, named for what the network rules refused when they refused anything: a
    /// function whose connect was refused usually fails of it, and its own last words
    /// ("Permission denied") do not say why. A cancel stays a cancel.
    func explaining(_ failure: ExecutorError) -> ExecutorError {
        let refusals = kernel.networkRefusals
        guard !refusals.isEmpty, failure != .canceled else { return failure }
        return .networkRefused(refused: refusals.map(\.what), failure: failure.description)
    }

    /// Notes in the run's log what the network rules refused, for a run that succeeded anyway.
    func noteNetworkRefusals(in runtime: FunctionRuntime) {
        for refusal in kernel.networkRefusals {
            runtime.appendLog(Array("[network: \(refusal) was refused: not in the function's approved network use]\n".utf8))
        }
    }

    /// The last non-empty line of `text`, trimmed.
    static func lastLine(of text: String) -> String {
        text.split(whereSeparator: \.isNewline).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    // MARK: Helpers

    private static func failure(starting error: Errno) -> ExecutorError {
        let reason = error.reason.isEmpty ? error.name : error.reason
        switch error {
        case .nomem: return .outOfMemory(reason)
        case .noexec: return .badPayload(reason)
        default: return .unavailable("cannot start the function: \(reason)")
        }
    }

    private static func checkFileName(_ name: String, kind: String) throws(ExecutorError) {
        guard !name.isEmpty, name != ".", name != "..", !name.contains("/"), !name.contains("\0"), name.utf8.count <= 255 else {
            throw .badInput(name: name, line: nil, reason: "the \(kind) name must be a plain file name (no /, not . or ..)")
        }
    }

    private func sandboxCall<T>(_ what: String, _ body: () throws(Errno) -> T) throws(ExecutorError) -> T {
        do {
            return try body()
        } catch {
            throw .unavailable("sandbox: cannot \(what): \(error.reason.isEmpty ? error.name : error.reason)")
        }
    }
}
