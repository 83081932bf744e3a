@_spi(Fuzzing) import WasmKit

/// Runs a LibOS process on WasmKit: one Engine and Store per process, the kernel's syscalls as
/// its only imports, the process's limits applied to the engine.
struct WasmKitRunner {
    let kernel: Kernel

    /// Instantiates the program and runs `_start` on the calling thread until the process ends.
    /// Throws only when the program cannot be started (`ENOMEM`, `ENOEXEC`).
    func run(_ process: Process) throws(Errno) -> WaitStatus {
        let limits = kernel.config.process
        let engine = Engine(configuration: EngineConfiguration(stackSize: Int(clamping: limits.defaultStackSize)))
        let store = Store(engine: engine)
        let limiter = MemoryLimiter(process: process, ceiling: Int(clamping: limits.defaultHeapSize))
        store.resourceLimiter = limiter
        let context = SyscallContext(kernel: kernel, process: process, memory: NoMemory())
        // The Store owns the syscall closures, which hold the context and the process; the
        // context's memory and the process's interrupt hold the Store. Break both cycles when
        // the process ends, or every process would leak its Store and linear memory.
        defer {
            context.memory = NoMemory()
            process.setInterrupt(nil)
        }

        var imports = Imports()
        for entry in process.program.module.imports {
            guard let syscall = WASIPreview1.syscalls[entry.name] else { continue }
            imports.define(module: entry.module, name: entry.name, function(for: syscall, store: store, context: context))
        }
        let instance: Instance
        do {
            instance = try process.program.module.instantiate(store: store, imports: imports)
        } catch {
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(process.path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(process.path) cannot be instantiated: \(error)")
        }
        if let memory = instance.exports[memory: "memory"] {
            context.memory = WasmKitUserMemory(memory)
        }
        if let flag = instance.exports[global: InterruptInstrumentation.exportName] {
            process.setInterrupt { try? flag.assign(.i32(1)) }
        }
        guard let start = instance.exports[function: "_start"] else {
            throw Errno.noexec.with(reason: "\(process.path) has no _start function")
        }
        process.cpuClockStart = threadCPUNanoseconds()
        do {
            _ = try start()
            return process.pendingTermination.map { WaitStatus.signaled($0, reason: "killed by \($0)") } ?? .exited(0)
        } catch let termination as ProcessTermination {
            switch termination {
            case .exited(let code): return .exited(code)
            case .signaled(let signal): return .signaled(signal, reason: "killed by \(signal)")
            }
        } catch {
            // A trap raised by the interrupt flag: the process ends by its pending signal.
            if let signal = process.pendingTermination { return .signaled(signal, reason: "killed by \(signal)") }
            let reason = "\(error)".replacingOccurrences(of: "\n", with: " ")
            return .signaled(WasmKitRunner.signal(forTrap: reason), reason: "trap: \(reason)")
        }
    }

    /// The signal a native program would die of for the same fault.
    static func signal(forTrap description: String) -> Signal {
        if description.contains("unreachable") { return .abort }
        if description.contains("divide") || description.contains("overflow") || description.contains("conversion") {
            return Signal(rawValue: 8)  // SIGFPE
        }
        return .segmentationFault
    }

    /// Binds one syscall for this process: checks for signals before and after it, counts it,
    /// traces it, and converts its errno into the guest's return value.
    private func function(for syscall: Syscall, store: Store, context: SyscallContext) -> Function {
        let parameters = syscall.wasmParameters
        let process = context.process
        let log = kernel.log
        let name = syscall.name
        switch syscall.behavior {
        case .exit:
            return Function(store: store, parameters: parameters, results: []) { _, arguments, _ in
                process.syscallCount += 1
                let code = Int32(bitPattern: arguments[0].i32)
                if log.isEnabled(.trace) {
                    log.log(.trace, "proc_exit(\(code))", pid: process.pid, tid: process.pid, syscall: process.syscallCount)
                }
                throw ProcessTermination.exited(code)
            }
        case .errno(let handler):
            return Function(store: store, parameters: parameters, results: [.i32]) { _, arguments, results in
                if let signal = process.pendingTermination { throw ProcessTermination.signaled(signal) }
                process.syscallCount += 1
                var values = SyscallArguments()
                for argument in arguments {
                    switch argument {
                    case .i32(let value): values.append(UInt64(value))
                    case .i64(let value): values.append(value)
                    default: values.append(0)
                    }
                }
                var result = Errno.success
                do {
                    try handler(context, values)
                } catch let error as Errno {
                    result = error
                } catch {
                    result = .io
                }
                if log.isEnabled(.trace) {
                    let list = (0..<values.count).map { "\(values[$0])" }.joined(separator: ", ")
                    log.log(.trace, "\(name)(\(list)) = \(result.name)", pid: process.pid, tid: process.pid, syscall: process.syscallCount)
                }
                if let signal = process.pendingTermination { throw ProcessTermination.signaled(signal) }
                results[0] = .i32(UInt32(result.rawValue))
            }
        }
    }
}
