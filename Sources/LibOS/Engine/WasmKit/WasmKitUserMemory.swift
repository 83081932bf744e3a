import WasmKit

/// A WasmKit linear memory seen through the kernel's ``UserMemory``.
final class WasmKitUserMemory: UserMemory {
    let memory: Memory
    init(_ memory: Memory) { self.memory = memory }

    var byteCount: Int { memory.byteCount }

    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try memory.withUnsafeMutableBufferPointer(offset: UInt(address), count: count, body)
    }
}
