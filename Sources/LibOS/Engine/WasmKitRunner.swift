@_spi(Fuzzing) import WasmKit
import WasmParser

/// A main thread whose program is instantiated and ready to run on the calling host thread.
struct MainThreadStart {
    let run: () -> Void
}

/// Runs LibOS processes on WasmKit: one Engine and Store per guest thread, the kernel's
/// syscalls as the only imports, the process's limits applied to the engine.
struct WasmKitRunner {
    let kernel: Kernel

    /// The WebAssembly features guests may use: WasmKit's defaults and threads.
    static let features: WasmFeatureSet = [.referenceTypes, .exceptionHandling, .threads]

    /// The fuel each CPU-second of a process's limit buys: more than any interpreter executes
    /// in a second, so fuel runs out only when the interrupt checks were missing (a backstop).
    static let fuelPerCPUSecond: UInt64 = 4_000_000_000

    /// Instantiates the main thread of `main.process` (creating its shared memory if the
    /// program imports one). Throws `ENOMEM` or `ENOEXEC` when the program cannot start.
    func prepareMainThread(_ main: GuestThread) throws(Errno) -> MainThreadStart {
        let process = main.process
        if let type = ThreadGroup.sharedMemoryType(of: process.program.module) {
            process.engineState = try ThreadGroup(process: process, memoryType: type, configuration: engineConfiguration(for: process))
        }
        let instance = try GuestInstance(runner: self, thread: main)
        switch process.entry {
        case .command:
            return MainThreadStart { instance.run(entry: "_start", arguments: []) }
        case .function(let name):
            return MainThreadStart { instance.runFunction(name, arguments: process.arguments) }
        }
    }

    /// Starts a thread of `caller`'s process at `wasi_thread_start(tid, argument)` on a new
    /// host thread; returns its tid once it is instantiated.
    func spawnThread(from caller: GuestThread, argument: Int32) throws(Errno) -> Int32 {
        let process = caller.process
        guard process.program.module.exports.contains(where: { $0.name == "wasi_thread_start" }) else {
            throw Errno.noexec.with(reason: "\(process.path) has no wasi_thread_start export")
        }
        let table = kernel.table
        try table.reserveThread()
        let thread = GuestThread(tid: table.threadID(), process: process, affinity: caller.sched.affinity)
        let started = StartupHandshake()
        do throws(Errno) {
            try HostThread.start {
                let instance: GuestInstance
                do throws(Errno) {
                    instance = try GuestInstance(runner: self, thread: thread)
                } catch {
                    table.releaseThread()
                    started.fail(error)
                    return
                }
                started.succeed()
                instance.run(entry: "wasi_thread_start", arguments: [.i32(UInt32(bitPattern: thread.tid)), .i32(UInt32(bitPattern: argument))])
                table.releaseThread()
            }
        } catch {
            table.releaseThread()
            throw error
        }
        try started.wait()
        return thread.tid
    }

    /// The engine configuration of every thread of `process`.
    func engineConfiguration(for process: Process) -> EngineConfiguration {
        EngineConfiguration(
            stackSize: Int(clamping: kernel.config.process.defaultStackSize), features: Self.features,
            fuelMetering: process.limits.cpuTime != nil)
    }

    /// The signal a native program would die of for the same fault.
    static func signal(forTrap description: String) -> Signal {
        if description.contains("out of fuel") { return .cpuLimit }
        if description.contains("unreachable") { return .abort }
        if description.contains("divide") || description.contains("overflow") || description.contains("conversion") {
            return Signal(rawValue: 8)  // SIGFPE
        }
        return .segmentationFault
    }
}

/// What the threads of one process share in the engine: their shared memory, and the way to
/// wake those parked in `memory.atomic.wait`.
final class ThreadGroup: @unchecked Sendable {
    let sharedMemory: SharedMemory
    let waker: AtomicWaitWaker
    let memoryImport: (module: String, name: String)

    /// The shared memory a `wasm32-wasi-threads` program imports, if it imports one.
    static func sharedMemoryType(of module: Module) -> (module: String, name: String, type: MemoryType)? {
        for entry in module.imports {
            if case .memory(let type) = entry.descriptor, type.shared { return (entry.module, entry.name, type) }
        }
        return nil
    }

    init(process: Process, memoryType: (module: String, name: String, type: MemoryType), configuration: EngineConfiguration) throws(Errno) {
        let engine = Engine(configuration: configuration)
        let limiter = MemoryLimiter(process: process, ceiling: Int(clamping: process.limits.memory))
        do {
            sharedMemory = try SharedMemory(engine: engine, type: memoryType.type, resourceLimiter: limiter)
            waker = try AtomicWaitWaker(sharedMemory: sharedMemory, engine: engine)
        } catch {
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(process.path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(process.path): cannot create its shared memory: \(error)")
        }
        memoryImport = (memoryType.module, memoryType.name)
    }
}
