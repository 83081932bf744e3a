#if canImport(Glibc)
import Glibc
#endif

extension WASIPreview1 {
    private struct Subscription {
        enum Kind {
            case clock(deadline: UInt64?)  // monotonic nanoseconds; nil: unsupported clock (EINVAL event)
            case fd(fd: UInt32, write: Bool)
        }
        var userdata: UInt64
        var kind: Kind
    }

    private struct Event {
        var userdata: UInt64
        var error: Errno
        var type: UInt8
        var bytes: UInt64 = 0
        /// `eventrwflags`: ``WASILayout/eventHangUp`` when the other end is gone.
        var flags: UInt16 = 0
    }

    static func pollOneoff(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (input, output, count, eventsPointer) = (a.u32(0), a.u32(1), a.u32(2), a.u32(3))
        if count == 0 { throw .inval }
        if count > 4096 { throw .inval }
        try c.memory.check(input, count &* WASILayout.subscriptionSize)
        try c.memory.check(output, count &* WASILayout.eventSize)
        try c.memory.check(eventsPointer, 4)

        var subscriptions: [Subscription] = []
        let start = monotonicNanoseconds()
        for index in 0..<count {
            let at = input + index * WASILayout.subscriptionSize
            let userdata = try c.memory.loadU64(at)
            let tag = try c.memory.loadU8(at + 8)
            switch tag {
            case 0:
                let clock = ClockID(rawValue: try c.memory.loadU32(at + 16))
                let timeout = try c.memory.loadU64(at + 24)
                let absolute = try c.memory.loadU16(at + 40) & 1 != 0
                // Deadlines are monotonic nanoseconds; guest times saturate, never overflow.
                var deadline: UInt64?
                switch clock {
                case .monotonic?:
                    deadline = absolute ? timeout : start.saturatingAdd(timeout)
                case .realtime?:
                    if absolute {
                        let now = nowNanoseconds()
                        deadline = timeout > now ? start.saturatingAdd(timeout - now) : start
                    } else {
                        deadline = start.saturatingAdd(timeout)
                    }
                default:
                    deadline = nil
                }
                subscriptions.append(Subscription(userdata: userdata, kind: .clock(deadline: deadline)))
            case 1, 2:
                let fd = try c.memory.loadU32(at + 16)
                subscriptions.append(Subscription(userdata: userdata, kind: .fd(fd: fd, write: tag == 2)))
            default:
                throw .inval
            }
        }

        // Descriptors are looked up once: one that is not open fails the whole call, as in
        // wasmtime; the descriptions stay referenced for the wait even if another thread closes them.
        var watched: [(userdata: UInt64, description: any FileDescription, wanted: Events, type: UInt8)] = []
        var earliest: UInt64?
        var instant: [Event] = []
        for subscription in subscriptions {
            switch subscription.kind {
            case .clock(let deadline?):
                earliest = min(earliest ?? .max, deadline)
            case .clock(deadline: nil):
                instant.append(Event(userdata: subscription.userdata, error: .inval, type: 0))
            case .fd(let fd, let write):
                let description = try c.files.get(fd, requiring: .pollFdReadwrite).description
                watched.append((subscription.userdata, description, write ? .writable : .readable, write ? 2 : 1))
            }
        }

        /// The events that have happened, in subscription order: expired clocks and descriptors
        /// that are ready (or failed, or hung up); nil while none has.
        func happened() -> [Event]? {
            var events = instant
            let now = monotonicNanoseconds()
            var next = 0
            for subscription in subscriptions {
                switch subscription.kind {
                case .clock(let deadline?):
                    if deadline <= now { events.append(Event(userdata: subscription.userdata, error: .success, type: 0)) }
                case .clock(deadline: nil):
                    break
                case .fd:
                    let entry = watched[next]
                    next += 1
                    let ready = entry.description.readiness(entry.wanted)
                    if ready.isEmpty { continue }
                    var event = Event(userdata: entry.userdata, error: .success, type: entry.type)
                    if ready.contains(.error) {
                        // What the transfer would fail with: a write to a pipe without readers.
                        event.error = entry.wanted == .writable ? .pipe : .io
                    } else {
                        if ready.contains(.readable) { event.bytes = entry.description.readableBytes() ?? 0 }
                        if ready.contains(.hangUp) { event.flags = WASILayout.eventHangUp }
                    }
                    events.append(event)
                }
            }
            return events.isEmpty ? nil : events
        }

        // One wait on every descriptor's queue at once, until one of them is ready, the earliest
        // clock passes or the process starts to end (EINTR).
        let interests = watched.map { WaitInterest($0.description.waiterQueue, $0.wanted) }
        let events: [Event]
        do {
            events = try c.thread.wait(on: interests, until: earliest, happened)
        } catch where error == .timedout {
            // The earliest clock passed between the last look and the deadline check.
            events = happened() ?? []
        }
        for (index, event) in events.enumerated() {
            try c.memory.withBytes(at: output + UInt32(index) * WASILayout.eventSize, count: WASILayout.eventSize) { (b) throws(Errno) in
                b.initializeMemory(as: UInt8.self, repeating: 0)
                b.storeBytes(of: event.userdata.littleEndian, toByteOffset: 0, as: UInt64.self)
                b.storeBytes(of: event.error.rawValue.littleEndian, toByteOffset: 8, as: UInt16.self)
                b.storeBytes(of: event.type, toByteOffset: 10, as: UInt8.self)
                b.storeBytes(of: event.bytes.littleEndian, toByteOffset: 16, as: UInt64.self)
                b.storeBytes(of: event.flags.littleEndian, toByteOffset: 24, as: UInt16.self)
            }
        }
        try c.memory.storeU32(UInt32(events.count), at: eventsPointer)
    }

    static func procRaise(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        guard let signal = Signal(wasi: UInt8(truncatingIfNeeded: a.u32(0))), a.u32(0) <= 0xff else { throw .inval }
        if signal.stopsByDefault { throw .notsup }
        if signal.terminatesByDefault {
            // WASI guests cannot install handlers: the default action applies.
            c.process.deliver(signal, reason: "raised \(signal)")
        }
    }

    static func schedYield(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        _ = sched_yield()
    }
}

extension UInt64 {
    /// `self + other`, or `UInt64.max` where that overflows.
    func saturatingAdd(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? .max : sum
    }
}
