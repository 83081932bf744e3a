/// One engine-side allocation a guest controls — a linear memory, or one instance's tables —
/// charged against its process's `default_heap_size` and the instance's `user_space_size`.
///
/// Both engines charge through it: WasmKit from its `ResourceLimiter`, wasmtime from the linear
/// memories the kernel allocates for it (``WasmtimeMemoryCreator``). A refused growth makes
/// `memory.grow` (or `table.grow`) answer -1, and the refusal is noted on the process, so a
/// failure that follows is reported as out of memory.
final class MemoryCharge: @unchecked Sendable {
    let process: Process
    /// What is charged, for the refusal's wording ("linear memory", "tables").
    let what: String
    private let lock = KernelLock()
    private var bytes = 0

    init(process: Process, what: String) {
        self.process = process
        self.what = what
    }

    /// The bytes charged now.
    var charged: Int { lock.withLock { bytes } }

    /// Moves the charge to `desired` bytes. False when that would put the process over its
    /// limit or the instance over its total (the charge is unchanged then).
    func resize(to desired: Int) -> Bool {
        lock.withLock {
            if let refusal = process.chargeMemory(desired - bytes, total: desired, what: what) {
                process.noteMemoryRefusal(refusal)
                return false
            }
            bytes = desired
            return true
        }
    }

    /// Gives the whole charge back.
    func release() {
        lock.withLock {
            _ = process.chargeMemory(-bytes, total: 0, what: what)
            bytes = 0
        }
    }
}

extension Process {
    /// Adds `delta` bytes (negative: releases) to the process's engine memory, within its
    /// ceiling (``ProcessLimits/memory``) and the instance's `user_space_size`. Returns nil, or why
    /// it was refused. Releases after the process's accounting closed are ignored.
    func chargeMemory(_ delta: Int, total: Int, what: String) -> String? {
        memoryLock.withLock { () -> String? in
            if delta <= 0 {
                guard !memoryAccountingClosed else { return nil }
                let returned = min(-delta, memoryReservation)
                memoryReservation -= returned
                _ = kernel.reserveMemory(-returned)
                return nil
            }
            let ceiling = Int(clamping: limits.memory)
            if memoryReservation > ceiling - delta {
                return "\(what) of \(total) bytes is over the process limit of \(ceiling) bytes"
            }
            guard kernel.reserveMemory(delta) else {
                return "\(what) of \(total) bytes is over the instance's user_space_size"
            }
            memoryReservation += delta
            return nil
        }
    }

    /// Returns whatever the process still holds to the instance; later releases are ignored.
    func closeMemoryAccounting() {
        memoryLock.withLock {
            _ = kernel.reserveMemory(-memoryReservation)
            memoryReservation = 0
            memoryAccountingClosed = true
        }
    }
}
