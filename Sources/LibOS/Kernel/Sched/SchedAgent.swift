#if canImport(Glibc)
import Glibc
#endif
import CLibOSHost

/// The scheduling state of one guest thread.
///
/// A guest thread does not always have a host thread: between `spawn` and the moment its host
/// thread starts, the agent is *detached* and only records the affinity asked for. Once the
/// host thread runs the guest, the agent is *attached*: a new affinity is applied to the host
/// thread at once (from that thread — a guest changes its own thread's affinity, or another
/// thread's, which is applied when that thread next makes a sched call).
final class SchedAgent: @unchecked Sendable {
    private let lock = KernelLock()
    /// The affinity the guest asked for and the host thread has not applied yet.
    private var wish: CpuSet?
    /// The affinity in force (after `attach`, read back from the host).
    private var applied: CpuSet
    private var isAttached = false

    /// A detached agent whose thread will start with `affinity` (the spawner's).
    init(affinity: CpuSet?) {
        wish = affinity
        applied = affinity ?? .all
    }

    /// Called on the new host thread: applies the recorded wish, reads back what holds.
    func attach() {
        lock.withLock {
            isAttached = true
            applyPendingWish()
        }
    }

    /// Called when the host thread stops running the guest thread.
    func detach() {
        lock.withLock { isAttached = false }
    }

    /// The thread's affinity: what the host thread has, or the recorded wish.
    var affinity: CpuSet {
        lock.withLock { wish ?? applied }
    }

    /// Records a new affinity: `EINVAL` when it holds no host CPU. Applied at once when called
    /// from the thread itself, else when the thread next makes a sched call.
    func setAffinity(_ set: CpuSet, fromOwnThread: Bool) throws(Errno) {
        if set.isEmpty { throw Errno.inval.with(reason: "the CPU set holds no CPU of this host") }
        try lock.withLock { () throws(Errno) in
            wish = set
            if fromOwnThread, isAttached {
                guard applyPendingWish() else { throw Errno.inval.with(reason: "no CPU of \(set) is allowed to this host process") }
            }
        }
    }

    /// Applies a wish recorded by another thread; called by the owning thread in its sched calls.
    func applyIfChanged() {
        lock.withLock { if wish != nil, isAttached { applyPendingWish() } }
    }

    /// With the lock held, on the owning host thread.
    @discardableResult
    private func applyPendingWish() -> Bool {
        var ok = true
        if let wish {
            ok = wish.words.withUnsafeBufferPointer { cloister_host_set_affinity($0.baseAddress, Int32($0.count)) } == 0
            self.wish = nil
        }
        var words = [UInt64](repeating: 0, count: CpuSet.wordCount)
        if words.withUnsafeMutableBufferPointer({ cloister_host_get_affinity($0.baseAddress, Int32($0.count)) }) == 0 {
            applied = words.withUnsafeBytes { CpuSet(guestBytes: $0) }
        }
        return ok
    }
}
