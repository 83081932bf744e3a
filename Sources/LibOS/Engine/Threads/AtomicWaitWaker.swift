@_spi(Fuzzing) import WasmKit

/// Wakes guest threads parked in `memory.atomic.wait` on a process's shared memory.
///
/// The kernel cannot reach into WasmKit's parking lot, so it does what a guest would: it runs
/// `memory.atomic.notify` on the address the thread waits on (which the instrumented wait
/// recorded, see ``InterruptInstrumentation``), from a tiny kernel-owned module that imports
/// the same shared memory into its own store.
final class AtomicWaitWaker: @unchecked Sendable {
    private let lock = KernelLock()
    private let notify: Function

    /// `(module (import "env" "memory" (memory 0 65536 shared))
    ///   (func (export "notify") (param i32) (result i32)
    ///     local.get 0  i32.const -1  memory.atomic.notify))`
    private static let moduleBytes: [UInt8] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
        0x02, 0x12, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x03, 0x00, 0x80, 0x80, 0x04,
        0x03, 0x02, 0x01, 0x00,
        0x07, 0x0a, 0x01, 0x06, 0x6e, 0x6f, 0x74, 0x69, 0x66, 0x79, 0x00, 0x00,
        0x0a, 0x0c, 0x01, 0x0a, 0x00, 0x20, 0x00, 0x41, 0x7f, 0xfe, 0x00, 0x02, 0x00, 0x0b,
    ]

    init(sharedMemory: SharedMemory, engine: Engine) throws {
        let store = Store(engine: engine)
        var imports = Imports()
        imports.define(module: "env", name: "memory", Memory(store: store, sharedMemory: sharedMemory))
        let instance = try parseWasm(bytes: Self.moduleBytes, features: engine.configuration.features).instantiate(store: store, imports: imports)
        guard let notify = instance.exports[function: "notify"] else { throw Errno.noexec }
        self.notify = notify
    }

    /// Wakes every thread waiting on `address`.
    func wake(address: UInt32) {
        lock.withLock { _ = try? notify([.i32(address)]) }
    }
}
