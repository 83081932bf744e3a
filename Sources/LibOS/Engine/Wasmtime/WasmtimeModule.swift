import CWasmtime

/// A module compiled by wasmtime, pre-linked against the kernel's syscalls (an `InstancePre`,
/// so instantiating a thread is a few tens of microseconds), shared by every process that runs it.
final class WasmtimeModule: EngineModule, @unchecked Sendable {
    let engine: WasmtimeEngine
    let module: OpaquePointer
    let facts: ModuleFacts
    /// Nil for a threaded program: each process links its own shared memory.
    let prelinked: OpaquePointer?

    init(engine: WasmtimeEngine, module: OpaquePointer, facts: ModuleFacts, path: String) throws(Errno) {
        self.engine = engine
        self.module = module
        self.facts = facts
        if facts.sharedMemory == nil {
            var pre: OpaquePointer?
            if let error = engine.withLinker({ linker in engine.library.c.wasmtime_linker_instantiate_pre(linker, module, &pre) }) {
                engine.library.c.wasmtime_module_delete(module)
                throw Errno.noexec.with(reason: "\(path) cannot be linked: \(WasmtimeLibrary.essence(of: engine.library.message(of: error)))")
            }
            prelinked = pre
        } else {
            prelinked = nil
        }
    }

    deinit {
        if let prelinked { engine.library.c.wasmtime_instance_pre_delete(prelinked) }
        engine.library.c.wasmtime_module_delete(module)
    }

    func startProcess(_ process: Process) throws(Errno) -> (any EngineProcess)? {
        guard let shared = facts.sharedMemory else { return nil }
        return try WasmtimeThreadGroup(module: self, process: process, memory: shared)
    }

    func instantiate(_ context: SyscallContext) throws(Errno) -> any EngineInstance {
        try WasmtimeInstance(module: self, context: context)
    }
}

/// What the threads of one process share in wasmtime: their shared memory — created at the size
/// the limits allow (``SharedMemoryBudget``) and charged whole — and a linker and `InstancePre`
/// that provide it beside the syscalls.
final class WasmtimeThreadGroup: EngineProcess, @unchecked Sendable {
    private let engine: WasmtimeEngine
    let memory: WasmtimeSharedMemory
    private let linker: OpaquePointer
    let prelinked: OpaquePointer
    private let charge: MemoryCharge

    init(module: WasmtimeModule, process: Process, memory declared: ModuleFacts.SharedMemoryImport) throws(Errno) {
        let engine = module.engine
        let c = engine.library.c
        self.engine = engine
        let budget = try SharedMemoryBudget(process: process, memory: declared, facts: module.facts, tableElementCost: engine.tableElementCost)
        charge = MemoryCharge(process: process, what: "shared linear memory")
        guard charge.resize(to: budget.chargedBytes) else {
            throw Errno.nomem.with(reason: "\(process.path): \(process.memoryRefusal ?? "its shared memory does not fit its limits")")
        }
        var type: OpaquePointer?
        var shared: OpaquePointer?
        if let error = c.wasmtime_memorytype_new(declared.limits.min, true, budget.maximumPages, false, true, 16, &type) {
            charge.release()
            throw Errno.noexec.with(reason: "\(process.path): \(engine.library.message(of: error))")
        }
        defer { c.wasm_memorytype_delete(type) }
        if let error = c.wasmtime_sharedmemory_new(engine.engine, type, &shared) {
            charge.release()
            throw Errno.nomem.with(reason: "\(process.path): cannot create its shared memory: \(engine.library.message(of: error))")
        }
        memory = WasmtimeSharedMemory(library: engine.library, memory: shared!)
        linker = c.wasmtime_linker_new(engine.engine)!
        // The same syscalls as the engine's own linker, and the memory.
        let store = c.wasmtime_store_new(engine.engine, nil, nil)!
        defer { c.wasmtime_store_delete(store) }
        var item = wasmtime_extern_t()
        item.kind = wasmtime_extern_kind_t(CLOISTER_WASMTIME_EXTERN_SHAREDMEMORY)
        item.of.sharedmemory = shared
        var pre: OpaquePointer?
        if let error = engine.defineSyscalls(in: linker) ?? c.wasmtime_linker_define(
            linker, c.wasmtime_store_context(store), declared.module, declared.module.utf8.count, declared.name, declared.name.utf8.count, &item)
            ?? c.wasmtime_linker_instantiate_pre(linker, module.module, &pre)
        {
            c.wasmtime_linker_delete(linker)
            charge.release()
            throw Errno.noexec.with(reason: "\(process.path) cannot be linked: \(WasmtimeLibrary.essence(of: engine.library.message(of: error)))")
        }
        prelinked = pre!
    }

    deinit {
        engine.library.c.wasmtime_instance_pre_delete(prelinked)
        engine.library.c.wasmtime_linker_delete(linker)
        charge.release()
    }
}

/// A process's shared memory: its base never moves, and wasmtime reports its size from any
/// thread.
final class WasmtimeSharedMemory: UserMemory, @unchecked Sendable {
    private let library: WasmtimeLibrary
    let memory: OpaquePointer

    init(library: WasmtimeLibrary, memory: OpaquePointer) {
        self.library = library
        self.memory = memory
    }

    deinit { library.c.wasmtime_sharedmemory_delete(memory) }

    var byteCount: Int { library.c.wasmtime_sharedmemory_data_size(memory) }

    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeMutableRawBufferPointer(start: library.c.wasmtime_sharedmemory_data(memory)! + Int(address), count: count))
    }
}
