@_spi(Fuzzing) import WasmKit

/// One guest thread's WasmKit instance: its own Engine and Store, the kernel's syscalls bound
/// to the thread, the interrupt flag the instrumentation added.
///
/// Created and used on the host thread that runs the guest thread (a Store is confined to one
/// thread).
final class WasmKitInstance: EngineInstance {
    private let store: Store
    private let instance: Instance
    private let limiter: WasmKitLimiter
    let memory: (any UserMemory)?
    private let exportedMemory: Memory?

    init(module: WasmKitModule, context: SyscallContext) throws(Errno) {
        let process = context.process
        let thread = context.thread
        store = Store(engine: Engine(configuration: WasmKitEngine.configuration(for: process)))
        limiter = WasmKitLimiter(process: process, tableElementLimit: Int(clamping: module.facts.tableElementLimit))
        store.resourceLimiter = limiter
        if let cpu = process.limits.cpuTime {
            let perSecond = WasmKitEngine.fuelPerCPUSecond
            let fuel = cpu > UInt64.max / perSecond ? UInt64.max - 1 : max(1, cpu * perSecond / 1_000_000_000)
            store.fuel = Fuel(remaining: fuel)
        }
        guard limiter.tables.resize(to: Int(clamping: module.facts.tableBytes(elementCost: WasmKitEngine.shared.tableElementCost))) else {
            throw Errno.nomem.with(reason: "\(process.path): \(process.memoryRefusal ?? "its tables do not fit its limits")")
        }
        var imports = Imports()
        for entry in module.module.imports {
            guard let syscall = SyscallTable.syscall(module: entry.module, name: entry.name) else { continue }
            imports.define(module: entry.module, name: entry.name, Self.bind(syscall, context: context, store: store))
        }
        var sharedMemory: Memory?
        if let group = process.engineState as? WasmKitThreadGroup {
            let memory = Memory(store: store, sharedMemory: group.sharedMemory)
            imports.define(module: group.memoryImport.module, name: group.memoryImport.name, memory)
            sharedMemory = memory
        }
        do {
            instance = try module.module.instantiate(store: store, imports: imports)
        } catch {
            limiter.release()
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(process.path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(process.path) cannot be instantiated: \(error)")
        }
        exportedMemory = instance.exports[memory: "memory"]
        memory = (exportedMemory ?? sharedMemory).map(WasmKitUserMemory.init)
        if let flag = instance.exports[global: InterruptInstrumentation.flagExportName] {
            thread.setInterruptHook { try? flag.assign(.i32(1)) }
        }
    }

    deinit { limiter.release() }

    func runStart() throws(GuestStop) {
        guard instance.exports[function: InterruptInstrumentation.startExportName] != nil else { return }
        _ = try call(InterruptInstrumentation.startExportName, [])
    }

    func call(_ name: String, _ arguments: [UInt32]) throws(GuestStop) -> UInt32? {
        guard let function = instance.exports[function: name] else { throw .trap(.other("no function \(name)")) }
        do {
            let results = try function(arguments.map { .i32($0) })
            if case .i32(let value)? = results.first { return value }
            return nil
        } catch let stop as GuestStop {
            throw stop
        } catch is WasmKitException {
            throw .trap(.uncaughtException)
        } catch {
            throw .trap(Self.cause(of: "\(error)"))
        }
    }

    /// WasmKit's trap reasons are not public: its words are mapped here, in one place.
    static func cause(of description: String) -> TrapCause {
        let text = description.split(separator: "\n").first.map(String.init) ?? description
        let reason = text.hasPrefix("Trap: ") ? String(text.dropFirst(6)) : text
        switch reason {
        case "unreachable": return .unreachable
        case "call stack exhausted": return .stackOverflow
        case "out of bounds memory access": return .memoryOutOfBounds
        case "integer divide by zero": return .integerDivisionByZero
        case "integer overflow": return .integerOverflow
        case "invalid conversion to integer": return .badConversionToInteger
        case "out of fuel": return .outOfFuel
        case "unaligned atomic": return .unalignedAtomic
        case "null function reference", "null reference": return .nullReference
        case _ where reason.hasPrefix("indirect call to null"): return .indirectCallToNull
        case _ where reason.hasPrefix("indirect call type mismatch"): return .indirectCallTypeMismatch
        case _ where reason.hasPrefix("out of bounds table access"): return .tableOutOfBounds
        case _ where reason.contains("requires a shared memory"): return .atomicWaitOnNonSharedMemory
        default: return .other(reason)
        }
    }

    /// `(module (import "env" "memory" (memory 0))
    ///   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`
    /// WasmKit has no host-side `memory.grow`: the growth runs in this kernel-owned module,
    /// which imports the guest's memory into the same store.
    private static let growModule: [UInt8] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
        0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00,
        0x03, 0x02, 0x01, 0x00,
        0x07, 0x08, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
        0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
    ]

    func growMemory(pages: UInt32) -> UInt32? {
        guard let exportedMemory else { return nil }
        var imports = Imports()
        imports.define(module: "env", name: "memory", exportedMemory)
        guard let grower = try? parseWasm(bytes: Self.growModule).instantiate(store: store, imports: imports),
            let grow = grower.exports[function: "grow"],
            case .i32(let old)? = try? grow([.i32(pages)]).first, old != UInt32.max
        else { return nil }
        return old
    }

    /// A WasmKit host function that answers `syscall` for `context`'s thread.
    private static func bind(_ syscall: Syscall, context: SyscallContext, store: Store) -> Function {
        Function(store: store, parameters: syscall.wasmKitParameters, results: syscall.returnsValue ? [.i32] : []) { _, arguments, results in
            var values = SyscallArguments()
            for argument in arguments {
                switch argument {
                case .i32(let value): values.append(UInt64(value))
                case .i64(let value): values.append(value)
                default: values.append(0)
                }
            }
            let value = try SyscallDispatch.invoke(syscall, context, values)
            if !results.isEmpty { results[0] = .i32(UInt32(bitPattern: value)) }
        }
    }
}

/// Holds one WasmKit store's linear memory to its process's budget (``MemoryCharge``) and its
/// tables to the element limit they were charged for.
final class WasmKitLimiter: ResourceLimiter, @unchecked Sendable {
    let memory: MemoryCharge
    let tables: MemoryCharge
    let tableElementLimit: Int
    private(set) var refusal: String?

    init(process: Process, tableElementLimit: Int) {
        memory = MemoryCharge(process: process, what: "linear memory")
        tables = MemoryCharge(process: process, what: "tables")
        self.tableElementLimit = tableElementLimit
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        if memory.resize(to: desired) { return true }
        refusal = memory.process.memoryRefusal
        return false
    }

    func limitTableGrowth(to desired: Int) throws -> Bool {
        if desired <= tableElementLimit { return true }
        let why = "a table of \(desired) elements is over the \(tableElementLimit) its tables were charged for"
        memory.process.noteMemoryRefusal(why)
        refusal = why
        return false
    }

    func release() {
        memory.release()
        tables.release()
    }
}

extension Syscall {
    /// The syscall's parameter types as WasmKit spells them.
    var wasmKitParameters: [ValueType] { parameters.map { $0 == .i32 ? .i32 : .i64 } }
}
