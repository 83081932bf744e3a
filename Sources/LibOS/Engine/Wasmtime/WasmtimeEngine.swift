import CWasmtime

/// wasmtime (Cranelift, compiled ahead and cached) behind the engine seam: the fast default.
///
/// One `wasm_engine_t` serves every kernel in the host process: compiled modules belong to an
/// engine, and an artifact compiled under one configuration must never be loaded under another
/// (wasmtime crashed loading one compiled with another stack limit), so the configuration is
/// fixed here. Interrupts are wasmtime's epochs: every store has a deadline one tick ahead, and
/// the kernel bumps the engine's epoch to make running guest code call ``epochReached`` at its
/// next loop head or function entry, which unwinds the thread when its process is ending and
/// lets it go on otherwise.
final class WasmtimeEngine: GuestEngine, @unchecked Sendable {
    let kind = EngineKind.wasmtime
    let instrumentation = InstrumentationStyle.engineChecks
    let tableElementCost = 16

    /// The most native stack guest code may use: wasmtime 51 refuses an engine with more than
    /// 2 MiB. Guest code runs on the host thread's stack, which is larger
    /// (``HostThread/stackSize``), so a deep recursion traps, never overflows it.
    static let maximumWasmStack = 2 << 20

    /// Everything that decides whether a compiled artifact fits this engine: part of every
    /// artifact's cache key. The artifact is named by the digest of the module as the guest
    /// supplied it, so this names the rewrite too (``InterruptInstrumentation/revision``).
    static let fingerprint = "wasmtime \(WasmtimeLibrary.version); epochs; threads; exceptions; stack \(maximumWasmStack); "
        + "host memories; cranelift speed; instrumentation \(InterruptInstrumentation.revision)"

    let library: WasmtimeLibrary
    let engine: OpaquePointer
    /// Every syscall the kernel provides, defined once; non-threaded programs link against it.
    let linker: OpaquePointer
    /// The syscalls defined in the linker as the host functions' environments, by import
    /// module and name (kept for the life of the engine), and the revision of the syscall table
    /// they were read at. Guarded by `lock`, with the linker.
    private var syscalls: [(module: String, name: String, entry: SyscallEntry)] = []
    private var syscallRevision = -1
    private let lock = KernelLock()

    /// The engine of this host process, or why wasmtime cannot be used here.
    static let shared: Result<WasmtimeEngine, EngineUnavailable> = WasmtimeLibrary.loaded.flatMap { library in
        Result { () throws(EngineUnavailable) in try WasmtimeEngine(library: library) }
    }

    /// The library, for the C callbacks (which capture nothing). Only reached once ``shared``
    /// succeeded.
    static var library: WasmtimeLibrary {
        guard case .success(let engine) = shared else { preconditionFailure("wasmtime is not loaded") }
        return engine.library
    }

    private init(library: WasmtimeLibrary) throws(EngineUnavailable) {
        self.library = library
        let c = library.c
        guard let config = c.wasm_config_new() else { throw EngineUnavailable("wasmtime could not create a configuration") }
        c.wasmtime_config_epoch_interruption_set(config, true)
        c.wasmtime_config_wasm_threads_set(config, true)
        c.wasmtime_config_shared_memory_set(config, true)
        c.wasmtime_config_wasm_exceptions_set(config, true)
        c.wasmtime_config_max_wasm_stack_set(config, Self.maximumWasmStack)
        c.wasmtime_config_cranelift_opt_level_set(config, wasmtime_opt_level_t(CLOISTER_WASMTIME_OPT_LEVEL_SPEED))
        var creator = WasmtimeLinearMemory.creator
        c.wasmtime_config_host_memory_creator_set(config, &creator)
        guard let engine = c.wasm_engine_new_with_config(config) else { throw EngineUnavailable("wasmtime could not create an engine") }
        self.engine = engine
        guard let linker = c.wasmtime_linker_new(engine) else { throw EngineUnavailable("wasmtime could not create a linker") }
        self.linker = linker
        if let error = withLinker({ _ in nil }) {
            throw EngineUnavailable("wasmtime could not define the syscalls: \(library.message(of: error))")
        }
    }

    /// Runs `body` with the engine's linker, after defining in it the syscalls of import modules
    /// registered since the last call (``SyscallTable/register(module:functions:)``); the first
    /// error, if any.
    func withLinker(_ body: (OpaquePointer) -> OpaquePointer?) -> OpaquePointer? {
        lock.withLock { () -> OpaquePointer? in
            let (modules, revision) = SyscallTable.modules
            if revision != syscallRevision {
                let known = Set(syscalls.map { $0.module + "." + $0.name })
                for (module, functions) in modules {
                    for (name, syscall) in functions where !known.contains(module + "." + name) {
                        let entry = SyscallEntry(syscall)
                        if let error = define(entry, module: module, name: name, in: linker) { return error }
                        syscalls.append((module, name, entry))
                    }
                }
                syscallRevision = revision
            }
            return body(linker)
        }
    }

    /// Defines every syscall the engine's linker holds in another `linker` (a process's own,
    /// beside its shared memory); the error, if one could not be.
    func defineSyscalls(in other: OpaquePointer) -> OpaquePointer? {
        withLinker { _ in
            for (module, name, entry) in syscalls {
                if let error = define(entry, module: module, name: name, in: other) { return error }
            }
            return nil
        }
    }

    /// Defines `entry`'s syscall as the host function `module.name` of `linker`.
    private func define(_ entry: SyscallEntry, module: String, name: String, in linker: OpaquePointer) -> OpaquePointer? {
        let c = library.c
        func types(_ kinds: [SyscallParameter]) -> wasm_valtype_vec_t {
            var vector = wasm_valtype_vec_t()
            let values = kinds.map { c.wasm_valtype_new($0 == .i32 ? wasm_valkind_t(CLOISTER_WASM_I32) : wasm_valkind_t(CLOISTER_WASM_I64)) }
            values.withUnsafeBufferPointer { c.wasm_valtype_vec_new(&vector, $0.count, $0.baseAddress) }
            return vector
        }
        var parameters = types(entry.syscall.parameters)
        var results = types(entry.syscall.returnsValue ? [.i32] : [])
        let type = c.wasm_functype_new(&parameters, &results)
        defer { c.wasm_functype_delete(type) }
        return c.wasmtime_linker_define_func_unchecked(
            linker, module, module.utf8.count, name, name.utf8.count, type, syscallTrampoline,
            Unmanaged.passUnretained(entry).toOpaque(), nil)
    }

    func validate(_ bytes: [UInt8], path: String) throws(Errno) {
        if let error = library.c.wasmtime_module_validate(engine, bytes, bytes.count) {
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(WasmtimeLibrary.essence(of: library.message(of: error)))")
        }
    }

    func cachedModule(digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) -> (any EngineModule)? {
        let name = ArtifactCache.name(digest: digest, fingerprint: Self.fingerprint)
        guard let cache else { return nil }
        let module = cache.withEntry(name) { artifact -> OpaquePointer? in
            var module: OpaquePointer?
            if let error = library.c.wasmtime_module_deserialize(
                engine, artifact.baseAddress!.assumingMemoryBound(to: UInt8.self), artifact.count, &module)
            {
                // Checked, yet refused (another build of the library): compiled again.
                _ = library.message(of: error)
                cache.remove(name)
                return nil
            }
            return module
        }
        guard let module else { return nil }
        return try? WasmtimeModule(engine: self, module: module, facts: facts, path: path)
    }

    func compile(_ instrumented: [UInt8], digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) throws(Errno) -> any EngineModule {
        let c = library.c
        var module: OpaquePointer?
        if let error = c.wasmtime_module_new(engine, instrumented, instrumented.count, &module) {
            throw Errno.noexec.with(reason: "\(path) cannot be compiled: \(WasmtimeLibrary.essence(of: library.message(of: error)))")
        }
        guard let module else { throw Errno.noexec.with(reason: "\(path) cannot be compiled") }
        if let cache {
            var artifact = wasm_byte_vec_t()
            if c.wasmtime_module_serialize(module, &artifact) == nil {
                cache.store(
                    ArtifactCache.name(digest: digest, fingerprint: Self.fingerprint), UnsafeBufferPointer(start: artifact.data, count: artifact.size))
                c.wasm_byte_vec_delete(&artifact)
            }
        }
        return try WasmtimeModule(engine: self, module: module, facts: facts, path: path)
    }

    /// Makes every running store of this engine check its deadline (``epochReached``).
    func interrupt() { library.c.wasmtime_engine_increment_epoch(engine) }
}

/// A syscall as a host function's environment.
final class SyscallEntry: Sendable {
    let syscall: Syscall
    init(_ syscall: Syscall) { self.syscall = syscall }
}

/// What every store of a guest thread carries (`wasmtime_context_get_data`).
final class WasmtimeStoreData {
    let context: SyscallContext
    init(context: SyscallContext) { self.context = context }
}

/// The one host function behind every syscall: its environment names the syscall, its store
/// the calling thread. A process that is ending (an exit, a signal) unwinds the thread with a
/// trap; its status is already decided.
private let syscallTrampoline: wasmtime_func_unchecked_callback_t = { environment, caller, values, _ in
    let entry = Unmanaged<SyscallEntry>.fromOpaque(environment!).takeUnretainedValue()
    let library = WasmtimeEngine.library
    let data = Unmanaged<WasmtimeStoreData>.fromOpaque(library.c.wasmtime_context_get_data(library.c.wasmtime_caller_context(caller))!)
        .takeUnretainedValue()
    var arguments = SyscallArguments()
    for (index, kind) in entry.syscall.parameters.enumerated() {
        let value = values![index]
        arguments.append(kind == .i32 ? UInt64(UInt32(bitPattern: value.i32)) : UInt64(bitPattern: value.i64))
    }
    do {
        let result = try SyscallDispatch.invoke(entry.syscall, data.context, arguments)
        if entry.syscall.returnsValue { values![0].i32 = result }
        return nil
    } catch {
        let message = "cloister: the process is ending"
        return library.c.wasmtime_trap_new(message, message.utf8.count)
    }
}

/// Called on a guest's own thread when the engine's epoch passed its store's deadline: unwinds
/// the thread when its process is ending, and otherwise sets the next deadline one tick ahead.
let epochReached: cloister_wasmtime_epoch_callback_t = { _, data, delta, kind in
    let thread = Unmanaged<GuestThread>.fromOpaque(data!).takeUnretainedValue()
    if thread.process.isEnding {
        return WasmtimeEngine.library.c.wasmtime_error_new("cloister: interrupted")
    }
    delta?.pointee = 1
    kind?.pointee = wasmtime_update_deadline_kind_t(CLOISTER_WASMTIME_UPDATE_DEADLINE_CONTINUE)
    return nil
}
