import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Monotonic wall clock, in nanoseconds.
func wallNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time of the calling thread (user + system), in nanoseconds.
func threadCPUNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

/// CPU time (user + system) of every waited-for child process, in nanoseconds.
func childrenCPUNanoseconds() -> UInt64 {
    var usage = rusage()
    getrusage(RUSAGE_CHILDREN.rawValue, &usage)
    func ns(_ t: timeval) -> UInt64 { UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_usec) * 1_000 }
    return ns(usage.ru_utime) + ns(usage.ru_stime)
}

/// One timed run: wall time and the CPU time it used.
struct Sample {
    var wall: Double  // seconds
    var cpu: Double  // seconds
}

/// The samples of one case and their order statistics.
struct Samples {
    var values: [Sample] = []

    mutating func append(_ sample: Sample) { values.append(sample) }

    var walls: [Double] { values.map(\.wall).sorted() }
    var cpus: [Double] { values.map(\.cpu).sorted() }
    var medianWall: Double { median(walls) }
    var minWall: Double { walls.first ?? .nan }
    var medianCPU: Double { median(cpus) }
    var isEmpty: Bool { values.isEmpty }
}

func median(_ sorted: [Double]) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// The `p`-th percentile (0…100) of sorted values, nearest-rank.
func percentile(_ sorted: [Double], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let rank = Int((p / 100 * Double(sorted.count)).rounded(.up))
    return sorted[min(max(rank, 1), sorted.count) - 1]
}

/// Formats seconds with a unit that keeps three or four significant digits.
func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "—" }
    if seconds >= 1 { return String(format: "%.3f s", seconds) }
    if seconds >= 1e-3 { return String(format: "%.2f ms", seconds * 1e3) }
    return String(format: "%.1f µs", seconds * 1e6)
}

/// Formats a byte count with a binary unit (negative allowed).
func formatBytes(_ bytes: Double) -> String {
    guard bytes.isFinite else { return "—" }
    let magnitude = abs(bytes)
    let kib = 1024.0, mib = kib * 1024, gib = mib * 1024
    if magnitude >= gib { return String(format: "%.2f GiB", bytes / gib) }
    if magnitude >= mib { return String(format: "%.2f MiB", bytes / mib) }
    if magnitude >= kib { return String(format: "%.1f KiB", bytes / kib) }
    return String(format: "%.0f B", bytes)
}

func formatRatio(_ ratio: Double) -> String {
    guard ratio.isFinite else { return "—" }
    return String(format: "%.3f", ratio)
}

func formatFactor(_ ratio: Double) -> String {
    guard ratio.isFinite else { return "—" }
    return String(format: "%.2f×", ratio)
}

/// Progress on standard error, so that standard output is only the Markdown report.
func progress(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
