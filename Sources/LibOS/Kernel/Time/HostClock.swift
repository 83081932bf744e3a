#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds of a host `timespec`, saturating instead of trapping: a negative field counts as
/// 0 (a time before 1970), and a time past the year 2554, where `UInt64` nanoseconds end, is
/// `UInt64.max`. Every host time the kernel reads passes through here — clocks and file times
/// alike — so a host file dated after 2554 cannot crash `fd_filestat_get`.
func nanoseconds(of time: timespec) -> UInt64 {
    let (scaled, overflowed) = UInt64(clamping: time.tv_sec).multipliedReportingOverflow(by: 1_000_000_000)
    let (sum, carried) = scaled.addingReportingOverflow(UInt64(clamping: time.tv_nsec))
    return overflowed || carried ? .max : sum
}

/// Nanoseconds of the host clock `clock` (0 when the host cannot read it).
func hostClockNanoseconds(_ clock: clockid_t) -> UInt64 {
    var time = timespec()
    guard clock_gettime(clock, &time) == 0 else { return 0 }
    return nanoseconds(of: time)
}

/// Monotonic nanoseconds.
func monotonicNanoseconds() -> UInt64 { hostClockNanoseconds(CLOCK_MONOTONIC) }

/// Wall-clock nanoseconds since the Unix epoch.
func nowNanoseconds() -> UInt64 { hostClockNanoseconds(CLOCK_REALTIME) }
