import CWasmtime

/// One guest thread's wasmtime instance: its own store (limits, epoch deadline, the thread's
/// syscall context as its data), instantiated from its module's (or process's) `InstancePre`.
///
/// Created and used on the host thread that runs the guest thread.
final class WasmtimeInstance: EngineInstance {
    private let engine: WasmtimeEngine
    private let store: OpaquePointer
    private let context: OpaquePointer
    private var instance = wasmtime_instance_t()
    private let data: WasmtimeStoreData
    private let tables: MemoryCharge
    /// The instance's own linear memory (nil for a threaded program, whose memory is shared).
    private var linearMemory: WasmtimeLinearMemory?
    let memory: (any UserMemory)?

    init(module: WasmtimeModule, context syscalls: SyscallContext) throws(Errno) {
        let engine = module.engine
        let c = engine.library.c
        let process = syscalls.process
        let thread = syscalls.thread
        let facts = module.facts
        self.engine = engine
        data = WasmtimeStoreData(context: syscalls)
        store = c.wasmtime_store_new(engine.engine, Unmanaged.passUnretained(data).toOpaque(), nil)!
        context = c.wasmtime_store_context(store)!
        tables = MemoryCharge(process: process, what: "tables")
        // Linear memory is charged as it grows, by the kernel's own memory creator
        // (WasmtimeLinearMemory), which refuses first and notes why: the limiter sets no memory
        // size of its own. It holds each table to the elements its tables were charged for, and
        // the instance to one memory.
        c.wasmtime_store_limiter(store, -1, Int64(clamping: facts.tableElementLimit), 1, Int64(facts.tables.count), 1)
        c.wasmtime_context_set_epoch_deadline(context, 1)
        c.wasmtime_store_epoch_deadline_callback(store, epochReached, Unmanaged.passUnretained(thread).toOpaque(), nil)
        thread.setInterruptHook { engine.interrupt() }

        guard tables.resize(to: Int(clamping: facts.tableBytes(elementCost: engine.tableElementCost))) else {
            c.wasmtime_store_delete(store)
            throw Errno.nomem.with(reason: "\(process.path): \(process.memoryRefusal ?? "its tables do not fit its limits")")
        }
        let group = process.engineState as? WasmtimeThreadGroup
        guard let prelinked = group?.prelinked ?? module.prelinked else {
            tables.release()
            c.wasmtime_store_delete(store)
            throw Errno.noexec.with(reason: "\(process.path): its shared memory was not created")
        }
        var trap: OpaquePointer?
        WasmtimeLinearMemory.beginCollecting(for: process)
        let error = c.wasmtime_instance_pre_instantiate(prelinked, context, &instance, &trap)
        let created = WasmtimeLinearMemory.endCollecting()
        if error != nil || trap != nil {
            let reason = error.map { WasmtimeLibrary.essence(of: engine.library.message(of: $0)) } ?? trap.map { "\(engine.library.cause(of: $0))" } ?? ""
            tables.release()
            c.wasmtime_store_delete(store)
            if let refusal = process.memoryRefusal { throw Errno.nomem.with(reason: "\(process.path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(process.path) cannot be instantiated: \(reason)")
        }
        linearMemory = created.first(where: \.isLinear)
        memory = linearMemory ?? group?.memory
    }

    deinit {
        engine.library.c.wasmtime_store_delete(store)
        tables.release()
    }

    func runStart() throws(GuestStop) {
        guard function(InterruptInstrumentation.startExportName) != nil else { return }
        _ = try call(InterruptInstrumentation.startExportName, [])
    }

    func call(_ name: String, _ arguments: [UInt32]) throws(GuestStop) -> UInt32? {
        guard var function = function(name) else { throw .trap(.other("no function \(name)")) }
        let c = engine.library.c
        var values = [wasmtime_val_raw_t](repeating: wasmtime_val_raw_t(), count: max(arguments.count, 1))
        for (index, argument) in arguments.enumerated() { values[index].i32 = Int32(bitPattern: argument) }
        var trap: OpaquePointer?
        let error = c.wasmtime_func_call_unchecked(context, &function, &values, values.count, &trap)
        if let trap {
            let cause = engine.library.cause(of: trap)
            if data.context.process.isEnding { throw .processEnding }
            throw .trap(cause)
        }
        if let error {
            let message = engine.library.message(of: error)
            if data.context.process.isEnding { throw .processEnding }
            throw .trap(.other(WasmtimeLibrary.essence(of: message)))
        }
        let results = data.context.process.program.facts.exportedFunctions[name]?.results.count ?? 0
        return results > 0 ? UInt32(bitPattern: values[0].i32) : nil
    }

    func growMemory(pages: UInt32) -> UInt32? {
        var item = wasmtime_extern_t()
        guard linearMemory != nil, export("memory", into: &item), item.kind == wasmtime_extern_kind_t(CLOISTER_WASMTIME_EXTERN_MEMORY) else { return nil }
        var previous: UInt64 = 0
        if let error = engine.library.c.wasmtime_memory_grow(context, &item.of.memory, UInt64(pages), &previous) {
            _ = engine.library.message(of: error)
            return nil
        }
        return UInt32(truncatingIfNeeded: previous)
    }

    private func function(_ name: String) -> wasmtime_func_t? {
        var item = wasmtime_extern_t()
        guard export(name, into: &item), item.kind == wasmtime_extern_kind_t(CLOISTER_WASMTIME_EXTERN_FUNC) else { return nil }
        return item.of.func
    }

    private func export(_ name: String, into item: inout wasmtime_extern_t) -> Bool {
        engine.library.c.wasmtime_instance_export_get(context, &instance, name, name.utf8.count, &item)
    }
}
