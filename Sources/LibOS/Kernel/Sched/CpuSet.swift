import CLibOSHost

/// A set of host CPUs, as `sched_setaffinity` takes it: one bit per CPU, in 64-bit words.
///
/// Every set has the same size: the host's configured CPUs rounded up to whole words. A guest
/// buffer smaller than that is `EINVAL` for `sched_getaffinity`, as on Linux.
public struct CpuSet: Equatable, Sendable, CustomStringConvertible {
    /// The host's configured CPUs.
    public static let hostCPUCount = Int(cloister_host_cpu_count())
    /// The words in every set.
    public static let wordCount = (hostCPUCount + 63) / 64
    /// The size of every set in bytes (what `sched_getaffinity` writes).
    public static let byteCount = wordCount * 8

    public private(set) var words: [UInt64]

    /// The empty set.
    public init() { words = Array(repeating: 0, count: Self.wordCount) }

    /// The set of `cpus`; numbers beyond the host's CPUs are dropped.
    public init(_ cpus: [Int]) {
        self.init()
        for cpu in cpus where cpu >= 0 && cpu < Self.hostCPUCount { words[cpu / 64] |= 1 << UInt64(cpu % 64) }
    }

    /// Every host CPU.
    public static var all: CpuSet { CpuSet(Array(0..<hostCPUCount)) }

    /// Reads a guest mask of `bytes` (little-endian words); bits beyond the host's CPUs are ignored.
    init(guestBytes bytes: UnsafeRawBufferPointer) {
        self.init()
        for cpu in 0..<min(Self.hostCPUCount, bytes.count * 8) where bytes[cpu / 8] & (1 << UInt8(cpu % 8)) != 0 {
            words[cpu / 64] |= 1 << UInt64(cpu % 64)
        }
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public func contains(_ cpu: Int) -> Bool {
        cpu >= 0 && cpu < Self.hostCPUCount && words[cpu / 64] & (1 << UInt64(cpu % 64)) != 0
    }

    /// The CPUs in the set, ascending.
    public var cpus: [Int] { (0..<Self.hostCPUCount).filter(contains) }

    public var description: String { "{" + cpus.map(String.init).joined(separator: ",") + "}" }
}
