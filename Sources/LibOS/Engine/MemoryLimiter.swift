@_spi(Fuzzing) import WasmKit

/// Holds one process's linear memory under its own ceiling (`default_heap_size`) and the
/// instance's total (`user_space_size`). A refused growth makes `memory.grow` return -1; a
/// refused initial size fails the start of the process with `ENOMEM`.
final class MemoryLimiter: ResourceLimiter, @unchecked Sendable {
    let process: Process
    let ceiling: Int
    private(set) var refusal: String?

    init(process: Process, ceiling: Int) {
        self.process = process
        self.ceiling = ceiling
    }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        if desired > ceiling {
            refuse("linear memory of \(desired) bytes is over the process limit of \(ceiling) bytes")
            return false
        }
        let current = process.memoryReservation.load(ordering: .relaxed)
        guard process.kernel.reserveMemory(desired - current) else {
            refuse("linear memory of \(desired) bytes is over the instance's user_space_size")
            return false
        }
        process.memoryReservation.store(desired, ordering: .relaxed)
        return true
    }

    private func refuse(_ why: String) {
        refusal = why
        process.noteMemoryRefusal(why)
    }

    func limitTableGrowth(to desired: Int) throws -> Bool { desired <= 1 << 20 }
}
