/// The size a process's shared memory (a `wasm32-wasi-threads` program's) may have, decided
/// once, when it is created, the same way on every engine.
///
/// An engine cannot charge a shared memory's growth as it happens (wasmtime grows shared
/// memories without asking anyone), so its maximum is lowered to what the process's limit
/// leaves after the tables of as many threads as the instance allows, and that maximum is
/// charged whole when the memory is created. `memory.grow` past it answers -1.
struct SharedMemoryBudget {
    static let pageSize: UInt64 = 65_536

    /// The memory's maximum, in pages, under the limits.
    let maximumPages: UInt64
    /// What the memory is charged: its maximum, in bytes.
    var chargedBytes: Int { Int(maximumPages * Self.pageSize) }

    /// `ENOMEM` when even the memory's declared minimum does not fit.
    init(process: Process, memory: ModuleFacts.SharedMemoryImport, facts: ModuleFacts, tableElementCost: Int) throws(Errno) {
        let threads = UInt64(max(1, process.kernel.config.resourceLimits.maxNumOfThreads))
        let tables = facts.tableBytes(elementCost: tableElementCost)
        let (allTables, overflow) = tables.multipliedReportingOverflow(by: threads)
        let ceiling = process.limits.memory
        let room = overflow || allTables >= ceiling ? 0 : ceiling - allTables
        let declared = memory.limits.max ?? 65_536
        maximumPages = min(declared, room / Self.pageSize, 65_536)
        guard memory.limits.min <= maximumPages else {
            throw Errno.nomem.with(
                reason: "\(process.path): shared linear memory of \(memory.limits.min) pages is over the process limit of \(ceiling) bytes")
        }
    }
}
