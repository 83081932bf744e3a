@_spi(Fuzzing) import WasmKit
import WasmParser

/// WasmKit, the pure-Swift interpreter, behind the engine seam: the reference engine, always
/// available.
///
/// It has no safe cross-thread interrupt, so its programs carry the kernel's interrupt checks
/// (``InstrumentationStyle/interruptFlag``); fuel is a hard CPU backstop. Each guest thread gets
/// its own `Engine` and `Store` (a shared engine's type interner made 8 threads 5–7× slower).
final class WasmKitEngine: GuestEngine {
    static let shared = WasmKitEngine()

    let kind = EngineKind.wasmkit
    let instrumentation = InstrumentationStyle.interruptFlag
    /// A table element is a `Reference` enum in WasmKit.
    let tableElementCost = 16

    /// The WebAssembly features guests may use: WasmKit's defaults and threads.
    static let features: WasmFeatureSet = [.referenceTypes, .exceptionHandling, .threads]

    /// The fuel each CPU-second of a process's limit buys: more than the interpreter executes in
    /// a second, so fuel runs out only when the interrupt checks were missing (a backstop).
    static let fuelPerCPUSecond: UInt64 = 4_000_000_000

    /// Validates every function body: WasmKit parses bodies lazily, so the module is
    /// instantiated once with eager compilation, no start function, and imports never called.
    func validate(_ bytes: [UInt8], path: String) throws(Errno) {
        var module: Module
        do {
            module = try parseWasm(bytes: bytes, features: Self.features)
        } catch {
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
        }
        module.dropStartFunction()
        let engine = Engine(configuration: EngineConfiguration(compilationMode: .eager, features: Self.features))
        let store = Store(engine: engine)
        var imports = Imports()
        do {
            for entry in module.imports {
                if case .memory(let type) = entry.descriptor {
                    let shared = try SharedMemory(engine: engine, type: type, resourceLimiter: DefaultResourceLimiter())
                    imports.define(module: entry.module, name: entry.name, Memory(store: store, sharedMemory: shared))
                    continue
                }
                guard let syscall = SyscallTable.syscall(module: entry.module, name: entry.name) else { continue }
                let function = Function(store: store, parameters: syscall.wasmKitParameters, results: syscall.returnsValue ? [.i32] : []) { _, _ in
                    throw Errno.nosys
                }
                imports.define(module: entry.module, name: entry.name, function)
            }
            _ = try module.instantiate(store: store, imports: imports)
        } catch {
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
        }
    }

    /// WasmKit keeps nothing between runs: parsing is its compilation, and it is quick.
    func cachedModule(digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) -> (any EngineModule)? { nil }

    func compile(_ instrumented: [UInt8], digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) throws(Errno) -> any EngineModule {
        do {
            return WasmKitModule(module: try parseWasm(bytes: instrumented, features: Self.features), facts: facts)
        } catch {
            throw Errno.noexec.with(reason: "\(path) cannot be instrumented: \(error)")
        }
    }

    /// The configuration of every engine of `process`'s threads.
    static func configuration(for process: Process) -> EngineConfiguration {
        EngineConfiguration(
            stackSize: Int(clamping: process.kernel.config.process.defaultStackSize), features: features,
            fuelMetering: process.limits.cpuTime != nil)
    }
}

/// A module parsed (after instrumentation) for WasmKit: `Module` is Sendable and instantiated
/// once per guest thread.
final class WasmKitModule: EngineModule {
    let module: Module
    let facts: ModuleFacts

    init(module: Module, facts: ModuleFacts) {
        self.module = module
        self.facts = facts
    }

    func startProcess(_ process: Process) throws(Errno) -> (any EngineProcess)? {
        guard let shared = facts.sharedMemory else { return nil }
        return try WasmKitThreadGroup(process: process, memory: shared, facts: facts)
    }

    func instantiate(_ context: SyscallContext) throws(Errno) -> any EngineInstance {
        try WasmKitInstance(module: self, context: context)
    }
}

/// What the threads of one process share in WasmKit: their shared memory, created once, at
/// the size the limits allow (``SharedMemoryBudget``), and charged whole when it is created.
final class WasmKitThreadGroup: EngineProcess, @unchecked Sendable {
    let sharedMemory: SharedMemory
    let memoryImport: (module: String, name: String)
    private let charge: MemoryCharge

    init(process: Process, memory: ModuleFacts.SharedMemoryImport, facts: ModuleFacts) throws(Errno) {
        let budget = try SharedMemoryBudget(process: process, memory: memory, facts: facts, tableElementCost: WasmKitEngine.shared.tableElementCost)
        charge = MemoryCharge(process: process, what: "shared linear memory")
        guard charge.resize(to: budget.chargedBytes) else {
            throw Errno.nomem.with(reason: "\(process.path): shared linear memory of \(budget.chargedBytes) bytes does not fit its limits")
        }
        let type = MemoryType(min: memory.limits.min, max: budget.maximumPages, isMemory64: false, shared: true)
        do {
            sharedMemory = try SharedMemory(engine: Engine(configuration: WasmKitEngine.configuration(for: process)), type: type, resourceLimiter: DefaultResourceLimiter())
        } catch {
            charge.release()
            throw Errno.noexec.with(reason: "\(process.path): cannot create its shared memory: \(error)")
        }
        memoryImport = (memory.module, memory.name)
    }

    deinit { charge.release() }
}
