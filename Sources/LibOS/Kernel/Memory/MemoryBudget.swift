import Synchronization

/// The host memory one instance holds on its guests' behalf, counted against its
/// `user_space_size`: every process's linear memory, and everything the kernel keeps in host
/// memory because a guest asked — ramfs file data and metadata (a node and a directory entry per
/// name), the plaintext of open sefs files.
///
/// Whatever a guest can make the host allocate is reserved here first, so the sum stays under the
/// one limit whatever mix the guest chooses: three million empty directories are refused like a
/// 3 GB file. A refusal is `ENOSPC` for file data and metadata (the guest sees a full disk) and
/// `ENOMEM` where memory itself is asked for (opening a sefs file too large to decrypt).
public final class MemoryBudget: Sendable {
    /// The most bytes the instance's guests may hold (`user_space_size`).
    public let capacity: UInt64
    private let used = Atomic<UInt64>(0)

    public init(capacity: UInt64) { self.capacity = capacity }

    /// Bytes held now.
    public var usedBytes: UInt64 { used.load(ordering: .relaxed) }

    /// Reserves `bytes`; false, reserving nothing, when that would pass the capacity.
    public func reserve(_ bytes: UInt64) -> Bool {
        var current = used.load(ordering: .relaxed)
        while true {
            let (next, overflow) = current.addingReportingOverflow(bytes)
            if overflow || next > capacity { return false }
            let (exchanged, original) = used.compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
    }

    /// Reserves `bytes`, or throws `error` saying which limit refused them.
    func charge(_ bytes: UInt64, or error: Errno, for what: String) throws(Errno) {
        guard reserve(bytes) else {
            throw error.with(reason: "\(what) would pass the instance's user_space_size (\(ByteSize.format(capacity)))")
        }
    }

    /// Gives back `bytes` reserved earlier.
    public func release(_ bytes: UInt64) {
        var current = used.load(ordering: .relaxed)
        while true {
            let next = current >= bytes ? current - bytes : 0
            let (exchanged, original) = used.compareExchange(expected: current, desired: next, ordering: .relaxed)
            if exchanged { return }
            current = original
        }
    }
}
