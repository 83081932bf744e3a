@_spi(Fuzzing) import WasmKit

/// One guest thread's instance of its process's program: its own Engine and Store, the
/// syscalls bound to its thread, its interrupt flag.
///
/// Created and run on the host thread that runs the guest thread (a Store is confined to one
/// thread). ``run(entry:arguments:)`` turns however the guest code ends into the process's fate.
final class GuestInstance {
    let thread: GuestThread
    private let store: Store
    private let instance: Instance
    private let context: SyscallContext
    private let limiter: MemoryLimiter

    init(runner: WasmKitRunner, thread: GuestThread) throws(Errno) {
        let process = thread.process
        let kernel = runner.kernel
        self.thread = thread
        let configuration = runner.engineConfiguration(for: process)
        store = Store(engine: Engine(configuration: configuration))
        limiter = MemoryLimiter(process: process, ceiling: Int(clamping: process.limits.memory))
        store.resourceLimiter = limiter
        if let cpu = process.limits.cpuTime {
            let perSecond = WasmKitRunner.fuelPerCPUSecond
            let fuel = cpu > UInt64.max / perSecond ? UInt64.max - 1 : max(1, cpu * perSecond / 1_000_000_000)
            store.fuel = Fuel(remaining: fuel)
        }
        context = SyscallContext(kernel: kernel, thread: thread, memory: NoMemory())
        process.add(thread)
        thread.attach()

        let group = process.engineState as? ThreadGroup
        if group != nil {
            let context = context
            context.spawnThread = { (argument) throws(Errno) -> Int32 in
                try runner.spawnThread(from: context.thread, argument: argument)
            }
        }
        var imports = Imports()
        let binding = SyscallBinding(context: context, log: kernel.log)
        for entry in process.program.module.imports {
            guard let syscall = SyscallTable.syscall(module: entry.module, name: entry.name) else { continue }
            imports.define(module: entry.module, name: entry.name, binding.function(for: syscall, store: store))
        }
        var sharedMemory: Memory?
        if let group {
            let memory = Memory(store: store, sharedMemory: group.sharedMemory)
            imports.define(module: group.memoryImport.module, name: group.memoryImport.name, memory)
            sharedMemory = memory
        }
        do {
            instance = try process.program.module.instantiate(store: store, imports: imports)
        } catch {
            Self.release(thread, context)
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(process.path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(process.path) cannot be instantiated: \(error)")
        }
        if let memory = instance.exports[memory: "memory"] ?? sharedMemory {
            context.memory = WasmKitUserMemory(memory)
        }
        if let flag = instance.exports[global: InterruptInstrumentation.exportName] {
            var wake: (() -> Void)?
            if let group, let waitAddress = instance.exports[global: InterruptInstrumentation.waitAddressExportName] {
                wake = { group.waker.wake(address: waitAddress.value.i32) }
            }
            thread.setEngineHooks(raise: { try? flag.assign(.i32(1)) }, wakeAtomicWait: wake)
        }
        if thread.tid == process.pid { process.markStarted() }
    }

    /// Calls `entry` until the guest code ends, and decides the process's end when this thread
    /// ends it: the main thread returning (exit 0), a trap (its signal), fuel running out
    /// (SIGXCPU). A thread that returns from `wasi_thread_start` just ends.
    func run(entry: String, arguments: [Value]) {
        let process = thread.process
        runGuestCode(entry) { function in
            _ = try function(arguments)
            if entry == "_start" { process.end(with: .exited(0)) }
        }
    }

    /// Runs the function entry `name` (``ProgramEntry/function(_:)``): `_initialize` if
    /// exported, then `name(argc, argv)`; its value becomes the status's `returnValue`.
    func runFunction(_ name: String, arguments: [String]) {
        let process = thread.process
        runGuestCode(name) { function in
            guard function.type.parameters == [.i32, .i32], function.type.results == [.i32] else {
                process.end(with: .signaled(.abort, reason: "\(process.path): \(name) must be (i32, i32) -> i32, the entry-point convention"))
                return
            }
            if let initialize = instance.exports[function: "_initialize"] { _ = try initialize([]) }
            let argv: UInt32
            do throws(Errno) {
                argv = try EntryArguments.place(arguments, memory: instance.exports[memory: "memory"], userMemory: context.memory, store: store)
            } catch {
                process.end(with: .signaled(.abort, reason: "\(process.path): \(error.reason.isEmpty ? error.name : error.reason)"))
                return
            }
            let results = try function([.i32(UInt32(arguments.count)), .i32(argv)])
            if case .i32(let value) = results.first {
                process.end(with: WaitStatus(rawValue: 0, returnValue: Int32(bitPattern: value)))
            }
        }
    }

    /// Runs guest code through the export `name` and turns however it ends into the process's fate.
    private func runGuestCode(_ name: String, _ body: (Function) throws -> Void) {
        let process = thread.process
        defer { finish() }
        guard let function = instance.exports[function: name] else {
            process.end(with: .signaled(.abort, reason: "\(process.path) has no \(name) function"))
            return
        }
        do {
            try body(function)
        } catch is ProcessEnding {
            // The process's end was decided (exit, signal, limit): nothing to add.
        } catch {
            if process.isEnding { return }  // the trap raised by the interrupt flag
            let reason = "\(error)".replacingOccurrences(of: "\n", with: " ")
            let signal = WasmKitRunner.signal(forTrap: reason)
            if signal == .cpuLimit {
                process.end(with: .signaled(signal, reason: "fuel exhausted: the CPU-time backstop stopped the guest"))
            } else {
                process.end(with: .signaled(signal, reason: "trap: \(reason)"))
            }
        }
    }

    /// Leaves the host thread and breaks the reference cycles between the store's syscall
    /// closures, the context and the thread's hooks, or every thread would leak its store.
    private func finish() { Self.release(thread, context) }

    private static func release(_ thread: GuestThread, _ context: SyscallContext) {
        let cpu = thread.detach()
        thread.process.remove(thread, cpuNanoseconds: cpu)
        context.memory = NoMemory()
        context.spawnThread = nil
    }
}
