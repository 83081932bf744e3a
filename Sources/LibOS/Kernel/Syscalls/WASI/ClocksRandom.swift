#if canImport(Glibc)
import Glibc
#endif

extension WASIPreview1 {
    /// WASI clock ids.
    enum ClockID: UInt32 {
        case realtime = 0, monotonic = 1, processCPUTime = 2, threadCPUTime = 3
    }

    /// The current time of `clock` in nanoseconds, for the calling thread.
    static func now(_ clock: ClockID, thread: GuestThread) -> UInt64 {
        switch clock {
        case .realtime: return nowNanoseconds()
        case .monotonic: return monotonicNanoseconds()
        case .processCPUTime: return thread.process.cpuNanoseconds
        case .threadCPUTime: return thread.cpuNanoseconds()
        }
    }

    static func clockResGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        guard let clock = ClockID(rawValue: a.u32(0)) else { throw .inval }
        try c.memory.check(a.u32(1), 8)
        var resolution = timespec()
        let hostClock: clockid_t
        switch clock {
        case .realtime: hostClock = CLOCK_REALTIME
        case .monotonic: hostClock = CLOCK_MONOTONIC
        case .processCPUTime, .threadCPUTime: hostClock = CLOCK_THREAD_CPUTIME_ID
        }
        clock_getres(hostClock, &resolution)
        try c.memory.storeU64(max(1, nanoseconds(of: resolution)), at: a.u32(1))
    }

    static func clockTimeGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        guard let clock = ClockID(rawValue: a.u32(0)) else { throw .inval }
        try c.memory.check(a.u32(2), 8)
        try c.memory.storeU64(now(clock, thread: c.thread), at: a.u32(2))
    }

    static func randomGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.withBytes(at: a.u32(0), count: a.u32(1)) { (buffer) throws(Errno) in fillRandom(buffer) }
    }
}
