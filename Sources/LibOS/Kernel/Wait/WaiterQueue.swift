/// The waiters of one waitable object — a file description, the process table's "a child
/// ended" — in the shape of gVisor's `waiter.Queue`.
///
/// A waiter registers with the events it waits for (``add(_:for:)``), re-checks the object's
/// readiness, and sleeps; whoever changes the object calls ``notify(_:)`` with the events that
/// may have changed, after the change, which wakes the waiters asking for any of them (error
/// and hang-up wake everyone). A notification carries no state: a woken waiter checks readiness
/// again, so a spurious one costs a check and nothing else.
///
/// A queue whose readiness lives on the host (a host stream, later a host socket) is told when
/// the union of what its waiters ask for changes (`interestChanged`), so that the
/// ``HostNotifier`` watches the host descriptor only while someone waits on it.
public final class WaiterQueue: @unchecked Sendable {
    /// A registration, to remove with ``remove(_:)``.
    struct Registration {
        fileprivate let id: UInt64
        let queue: WaiterQueue
    }

    private struct Entry {
        let id: UInt64
        let waiter: Waiter
        let events: Events
    }

    private let lock = KernelLock()
    private var entries: [Entry] = []
    private var nextID: UInt64 = 0
    /// The union of the entries' events, as last reported to `interestChanged`.
    private var interest: Events = []
    private let interestChanged: ((WaiterQueue, Events) throws(Errno) -> Void)?
    /// Registrations on an inert queue are not kept: nothing ever notifies it.
    private let isInert: Bool

    /// A queue; `interestChanged` is told (under the queue's lock, so in order) each time the
    /// union of what the waiters ask for changes, and may refuse a registration by throwing.
    public init(interestChanged: ((WaiterQueue, Events) throws(Errno) -> Void)? = nil) {
        self.interestChanged = interestChanged
        self.isInert = false
    }

    private init(inert: Void) {
        self.interestChanged = nil
        self.isInert = true
    }

    /// The queue of descriptions that are always ready (regular files, devfs): it never
    /// notifies, and a wait on it alone can end only by its deadline or an interrupt.
    public static let inert = WaiterQueue(inert: ())

    /// Registers `waiter` for `events` (and the unmaskable ones). Throws what the interest
    /// hook throws (the host could not watch its descriptor); nothing is registered then.
    func add(_ waiter: Waiter, for events: Events) throws(Errno) -> Registration {
        if isInert { return Registration(id: 0, queue: self) }
        return try lock.withLock { () throws(Errno) -> Registration in
            let wanted = events.withUnmaskable
            let union = interest.union(wanted)
            if union != interest, let interestChanged {
                try interestChanged(self, union)
            }
            interest = union
            nextID += 1
            entries.append(Entry(id: nextID, waiter: waiter, events: wanted))
            return Registration(id: nextID, queue: self)
        }
    }

    /// Removes a registration; removing one twice does nothing.
    func remove(_ registration: Registration) {
        if isInert { return }
        lock.withLock {
            guard let index = entries.firstIndex(where: { $0.id == registration.id }) else { return }
            entries.remove(at: index)
            let union = entries.reduce(Events()) { $0.union($1.events) }
            if union != interest {
                interest = union
                // Narrowing never fails in a way a waiter could act on: the worst is a spurious
                // host event, which costs a readiness check.
                try? interestChanged?(self, union)
            }
        }
    }

    /// Wakes every waiter registered for any of `events`. Call after the change, from any
    /// thread, with or without the object's own lock held (the queue's lock is taken last).
    public func notify(_ events: Events) {
        if isInert || events.isEmpty { return }
        let woken = lock.withLock { () -> [Waiter] in
            entries.filter { !$0.events.isDisjoint(with: events) }.map(\.waiter)
        }
        for waiter in woken { waiter.wake() }
    }

    /// How many registrations the queue holds (tests check that waits leave none behind).
    var registrationCount: Int { lock.withLock { entries.count } }

    /// The union of what the waiters ask for (with the unmaskable events while any waits).
    var currentInterest: Events { lock.withLock { interest } }
}
