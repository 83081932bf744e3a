import CLibOSHost

#if canImport(Glibc)
import Glibc
#endif

/// The one host thread that watches host descriptors (standard streams today, host sockets
/// later) and notifies the waiter queues of the descriptions that wrap them, in the shape of
/// gVisor's `fdnotifier`.
///
/// A description's queue tells the notifier what its waiters want (``setInterest(_:fd:queue:)``,
/// from ``WaiterQueue``'s interest hook), so a descriptor is in the epoll set only while some
/// guest thread waits on it: nothing to register when a description is made, nothing to forget
/// when the host closes or reuses a descriptor number while no one waits. Several descriptions
/// may wrap one descriptor (every kernel in a process inherits fd 0): each queue is kept per
/// descriptor and the set watches the union.
///
/// **Edge-triggered.** A description answers readiness itself, with a `poll(2)` of timeout 0
/// (``FileDescription/readiness(_:)``); the notifier only says "look again". Level-triggered,
/// a descriptor that stays ready — standard output that is writable while a thread waits for
/// it to become readable, a stream nobody drains after a wake-up — would return from every
/// `epoll_wait` and spin this thread. Edge-triggered, an event comes each time the descriptor's
/// state changes, which is exactly when a waiter that found it not ready (it registers before
/// it checks) needs waking; a change it missed before registering it sees in its check.
///
/// **No eventfd.** Changes to the set are `epoll_ctl` calls from the waiting thread: Linux
/// applies them to an `epoll_wait` in progress (epoll_wait(2): "it is possible for another
/// thread to add a file descriptor to the waited-upon epoll instance"), and the notifier never
/// stops (one per host process, like the runtime netpollers of Go and Tokio), so it has nothing
/// to be woken for.
final class HostNotifier: @unchecked Sendable {
    /// The host process's notifier, started on first use.
    static let shared = HostNotifier()

    private struct Watch {
        let queue: WaiterQueue
        var events: Events
    }

    private let lock = KernelLock()
    /// Per host descriptor, the queues waiting on it and what each wants.
    private var watches: [Int32: [ObjectIdentifier: Watch]] = [:]
    /// The epoll instance, once created (nil until the first watch, or when it could not be).
    private var epoll: Int32?

    private init() {}

    /// Sets what `queue`'s waiters want from host descriptor `fd` (empty: nothing). Throws the
    /// host's error when the descriptor cannot be watched (no epoll instance, no thread, or
    /// `epoll_ctl` refused it: then no guest waits on it).
    func setInterest(_ events: Events, fd: Int32, queue: WaiterQueue) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            let epoll = try startedLocked()
            let key = ObjectIdentifier(queue)
            var queues = watches[fd] ?? [:]
            let before = union(queues)
            let wasWatched = !queues.isEmpty
            let wanted = events.intersection([.readable, .writable])
            if events.isEmpty {
                queues[key] = nil
            } else {
                queues[key] = Watch(queue: queue, events: wanted)
            }
            let after = union(queues)
            if after != before || queues.isEmpty != !wasWatched {
                let bits = queues.isEmpty ? 0 : UInt32(after.rawValue) | CLOISTER_HOST_HANGUP
                if cloister_host_epoll_watch(epoll, fd, bits, wasWatched ? 1 : 0) != 0 {
                    let error = Errno(host: errno)
                    if !events.isEmpty { throw error.with(reason: "cannot watch host descriptor \(fd): \(error)") }
                }
            }
            watches[fd] = queues.isEmpty ? nil : queues
        }
    }

    /// Whether host descriptor `fd` is in the set now (tests check that a wait leaves nothing behind).
    func isWatching(_ fd: Int32) -> Bool { lock.withLock { watches[fd] != nil } }

    private func union(_ queues: [ObjectIdentifier: Watch]) -> Events {
        queues.values.reduce(Events()) { $0.union($1.events) }
    }

    /// The epoll instance, creating it and starting the thread on first use. With the lock held.
    private func startedLocked() throws(Errno) -> Int32 {
        if let epoll { return epoll }
        let created = cloister_host_epoll_create()
        if created < 0 { throw Errno(host: errno).with(reason: "cannot create the host notifier's epoll instance") }
        try HostThread.start { [self] in run(epoll: created) }
        epoll = created
        return created
    }

    private func run(epoll: Int32) {
        var fds = [Int32](repeating: 0, count: 64)
        var bits = [UInt32](repeating: 0, count: 64)
        while true {
            let count = cloister_host_epoll_wait(epoll, &fds, &bits, Int32(fds.count), -1)
            if count <= 0 { continue }  // EINTR
            for index in 0..<Int(count) {
                let events = Events(rawValue: UInt8(truncatingIfNeeded: bits[index]))
                // Notified outside the lock: a queue's lock is taken before this one when its
                // interest changes.
                let queues = lock.withLock { watches[fds[index]].map { Array($0.values) } ?? [] }
                for watch in queues { watch.queue.notify(events) }
            }
        }
    }
}
