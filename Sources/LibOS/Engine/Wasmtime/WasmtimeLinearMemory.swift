#if canImport(Glibc)
import Glibc
#endif
import CWasmtime
import Synchronization

/// A linear memory the kernel allocates for wasmtime (its host memory creator) — a guest's, or
/// the GC heap wasmtime keeps its exception objects in —, so that every growth is charged to the guest's budget the moment it happens (``MemoryCharge``): a refused
/// growth makes `memory.grow` answer -1, exactly as on WasmKit.
///
/// The memory reserves its whole address range (what wasmtime asks for, plus the guard region
/// after it, which JIT code relies on instead of bounds checks) without access, and makes pages
/// accessible as it grows. Its base never moves, so the kernel reads and writes it directly
/// (``UserMemory``) from the guest's thread, and reads its size from any thread.
final class WasmtimeLinearMemory: UserMemory, @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    /// The bytes reserved for the memory (it never grows beyond), and the guard after them.
    private let reserved: Int
    private let guardSize: Int
    /// The accessible size in bytes; written on the guest's thread, read from any.
    private let size: Atomic<Int>
    private let charge: MemoryCharge?
    /// A guest's linear memory; otherwise wasmtime's GC heap (where exception objects live).
    let isLinear: Bool

    /// Reserves a memory for `request`, charging its minimum to `charge`; nil (with the reason)
    /// when the address space cannot be reserved or the charge is refused.
    static func make(_ request: wasmtime_memory_request_t, charge: MemoryCharge?, isLinear: Bool) -> Result<WasmtimeLinearMemory, EngineUnavailable> {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let fourGiB = 1 << 32
        var reserved = request.reserved_size_in_bytes != 0 ? request.reserved_size_in_bytes : min(request.maximum, fourGiB)
        reserved = (max(reserved, request.minimum) + page - 1) / page * page
        return make(reserved: reserved, guardSize: request.guard_size_in_bytes, minimum: request.minimum, charge: charge, isLinear: isLinear)
    }

    private static func make(
        reserved: Int, guardSize: Int, minimum: Int, charge: MemoryCharge?, isLinear: Bool
    ) -> Result<WasmtimeLinearMemory, EngineUnavailable> {
        if let charge, !charge.resize(to: minimum) {
            return .failure(EngineUnavailable(charge.process.memoryRefusal ?? "linear memory of \(minimum) bytes is over the limits"))
        }
        let mapping = mmap(nil, reserved + guardSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapping, mapping != MAP_FAILED else {
            charge?.release()
            return .failure(EngineUnavailable("cannot reserve \(reserved + guardSize) bytes of address space for a linear memory"))
        }
        if minimum > 0, mprotect(mapping, minimum, PROT_READ | PROT_WRITE) != 0 {
            munmap(mapping, reserved + guardSize)
            charge?.release()
            return .failure(EngineUnavailable("cannot make \(minimum) bytes of a linear memory accessible"))
        }
        return .success(WasmtimeLinearMemory(
            base: mapping, reserved: reserved, guardSize: guardSize, size: minimum, charge: charge, isLinear: isLinear))
    }

    private init(base: UnsafeMutableRawPointer, reserved: Int, guardSize: Int, size: Int, charge: MemoryCharge?, isLinear: Bool) {
        self.isLinear = isLinear
        self.base = base
        self.reserved = reserved
        self.guardSize = guardSize
        self.size = Atomic(size)
        self.charge = charge
    }

    deinit {
        munmap(base, reserved + guardSize)
        charge?.release()
    }

    var byteCount: Int { size.load(ordering: .acquiring) }

    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeMutableRawBufferPointer(start: base + Int(address), count: count))
    }

    /// Grows the accessible part to `newSize` bytes; the reason when it cannot.
    fileprivate func grow(to newSize: Int) -> String? {
        let current = byteCount
        guard newSize > current else { return nil }
        guard newSize <= reserved else { return "linear memory of \(newSize) bytes is beyond its reservation" }
        if let charge, !charge.resize(to: newSize) {
            return charge.process.memoryRefusal ?? "linear memory of \(newSize) bytes is over the limits"
        }
        guard mprotect(base + current, newSize - current, PROT_READ | PROT_WRITE) == 0 else {
            _ = charge?.resize(to: current)
            return "cannot make \(newSize) bytes of a linear memory accessible"
        }
        size.store(newSize, ordering: .releasing)
        return nil
    }

    // MARK: The creator wasmtime calls

    /// Memories created on this host thread since ``beginCollecting()``: the instantiation that
    /// runs there finds its own memory among them.
    nonisolated(unsafe) private static var collectedKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// Starts collecting the memories created on this thread, charged to `process` (nil:
    /// uncharged, for the kernel's own instances).
    static func beginCollecting(for process: Process?) {
        endCollecting()
        let collector = Collector(process: process)
        pthread_setspecific(collectedKey, Unmanaged.passRetained(collector).toOpaque())
    }

    /// Stops collecting; the memories created since ``beginCollecting(for:)``.
    @discardableResult
    static func endCollecting() -> [WasmtimeLinearMemory] {
        guard let pointer = pthread_getspecific(collectedKey) else { return [] }
        pthread_setspecific(collectedKey, nil)
        return Unmanaged<Collector>.fromOpaque(pointer).takeRetainedValue().memories
    }

    private final class Collector {
        let process: Process?
        var memories: [WasmtimeLinearMemory] = []
        init(process: Process?) { self.process = process }
    }

    /// The creator to install in the engine's configuration.
    static var creator: wasmtime_memory_creator_t {
        wasmtime_memory_creator_t(env: nil, new_memory: newMemory, finalizer: nil)
    }

    private static let newMemory: wasmtime_new_memory_callback_t = { _, request, result in
        guard let request = request?.pointee, let result else { return nil }
        let library = WasmtimeEngine.library
        // wasmtime also asks for a GC heap (where exceptions live): charged the same way.
        let isLinear = request.kind == CLOISTER_WASMTIME_MEMORY_KIND_LINEAR_MEMORY
        let collector = pthread_getspecific(collectedKey).map { Unmanaged<Collector>.fromOpaque($0).takeUnretainedValue() }
        let charge = collector?.process.map { MemoryCharge(process: $0, what: isLinear ? "linear memory" : "GC heap") }
        switch make(request, charge: charge, isLinear: isLinear) {
        case .failure(let reason):
            return library.c.wasmtime_error_new(reason.description)
        case .success(let memory):
            collector?.memories.append(memory)
            result.pointee = wasmtime_linear_memory_t(
                env: Unmanaged.passRetained(memory).toOpaque(), get_memory: getMemory, grow_memory: growMemory, finalizer: release)
            return nil
        }
    }

    private static let getMemory: wasmtime_memory_get_callback_t = { env, size, capacity in
        let memory = Unmanaged<WasmtimeLinearMemory>.fromOpaque(env!).takeUnretainedValue()
        size?.pointee = memory.byteCount
        capacity?.pointee = memory.reserved
        return memory.base.assumingMemoryBound(to: UInt8.self)
    }

    private static let growMemory: wasmtime_memory_grow_callback_t = { env, newSize in
        let memory = Unmanaged<WasmtimeLinearMemory>.fromOpaque(env!).takeUnretainedValue()
        guard let refusal = memory.grow(to: newSize) else { return nil }
        return WasmtimeEngine.library.c.wasmtime_error_new(refusal)
    }

    private static let release: @convention(c) (UnsafeMutableRawPointer?) -> Void = { env in
        Unmanaged<WasmtimeLinearMemory>.fromOpaque(env!).release()
    }
}
