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

        while true {
            var events: [Event] = []
            var streams: [(HostStreamDescription, Bool)] = []
            let now = monotonicNanoseconds()
            var earliest: UInt64 = .max
            var waitsOnKernelStreams = false
            for subscription in subscriptions {
                switch subscription.kind {
                case .clock(let deadline?):
                    if deadline <= now {
                        events.append(Event(userdata: subscription.userdata, error: .success, type: 0))
                    } else {
                        earliest = min(earliest, deadline)
                    }
                case .clock(deadline: nil):
                    events.append(Event(userdata: subscription.userdata, error: .inval, type: 0))
                case .fd(let fd, let write):
                    let type: UInt8 = write ? 2 : 1
                    // A descriptor that is not open fails the whole call, as in wasmtime.
                    let entry = try c.files.get(fd, requiring: .pollFdReadwrite)
                    if !write, entry.description.wouldBlockOnRead, !(entry.description is HostStreamDescription) {
                        // A kernel stream (a pipe) that is empty: poll it again shortly.
                        waitsOnKernelStreams = true
                    } else if let stream = entry.description as? HostStreamDescription {
                        let ready = stream.isReady(events: Int16(write ? POLLOUT : POLLIN), timeoutMilliseconds: 0)
                        if ready {
                            events.append(Event(userdata: subscription.userdata, error: .success, type: type, bytes: write ? 0 : 1))
                        } else {
                            streams.append((stream, write))
                        }
                    } else {
                        let bytes = write ? 0 : (entry.description.readableBytes() ?? 0)
                        events.append(Event(userdata: subscription.userdata, error: .success, type: type, bytes: bytes))
                    }
                }
            }
            if !events.isEmpty {
                for (index, event) in events.enumerated() {
                    try c.memory.withBytes(at: output + UInt32(index) * WASILayout.eventSize, count: WASILayout.eventSize) { (b) throws(Errno) in
                        b.initializeMemory(as: UInt8.self, repeating: 0)
                        b.storeBytes(of: event.userdata.littleEndian, toByteOffset: 0, as: UInt64.self)
                        b.storeBytes(of: event.error.rawValue.littleEndian, toByteOffset: 8, as: UInt16.self)
                        b.storeBytes(of: event.type, toByteOffset: 10, as: UInt8.self)
                        b.storeBytes(of: event.bytes.littleEndian, toByteOffset: 16, as: UInt64.self)
                    }
                }
                try c.memory.storeU32(UInt32(events.count), at: eventsPointer)
                return
            }
            if c.process.isEnding { throw .intr }
            if streams.isEmpty {
                // Clocks (and kernel streams, checked again every millisecond): sleep until the
                // earliest, woken early when the process ends.
                let wake = waitsOnKernelStreams ? min(earliest, monotonicNanoseconds() + 1_000_000) : earliest
                if !c.thread.sleep(untilMonotonic: wake) { throw .intr }
            } else {
                // Host streams are polled at most 50 ms at a time, so a kill is seen; a clock
                // however far away (30 days, or 2^64 ns) only shortens the slice.
                let untilClock = earliest > now ? (earliest - now) / 1_000_000 + 1 : 0
                let slice = waitsOnKernelStreams ? 1 : Int32(min(50, untilClock))
                var requests = streams.map { pollfd(fd: $0.0.fd, events: Int16($0.1 ? POLLOUT : POLLIN), revents: 0) }
                _ = poll(&requests, nfds_t(requests.count), slice)
            }
        }
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
