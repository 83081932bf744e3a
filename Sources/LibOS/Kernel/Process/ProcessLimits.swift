/// The limits one process runs under: the instance's `process` defaults, possibly lowered for
/// one run (``ProcessLimits/Overrides``).
public struct ProcessLimits: Sendable, Equatable {
    /// The most linear memory the process may grow to, in bytes.
    public var memory: UInt64
    /// CPU time over all its threads, in nanoseconds; over it the process is killed as by SIGXCPU.
    public var cpuTime: UInt64?
    /// Wall-clock time from the start of `exec`, in nanoseconds; over it the process is killed.
    public var wallTime: UInt64?

    /// Limits for one run, each at most the instance's (a run may only lower them).
    public struct Overrides: Sendable, Equatable {
        public var memory: UInt64?
        public var cpuTime: UInt64?
        public var wallTime: UInt64?

        public init(memory: UInt64? = nil, cpuTime: UInt64? = nil, wallTime: UInt64? = nil) {
            self.memory = memory
            self.cpuTime = cpuTime
            self.wallTime = wallTime
        }

        public static let none = Overrides()
    }

    /// The instance's limits.
    init(defaults: ProcessDefaults) {
        memory = defaults.defaultHeapSize
        cpuTime = defaults.cpuTimeLimit
        wallTime = defaults.wallTimeLimit
    }

    /// These limits lowered by `overrides`: `EINVAL` when an override would raise one.
    func lowered(by overrides: Overrides) throws(Errno) -> ProcessLimits {
        var result = self
        func lower(_ name: String, _ current: UInt64?, _ wanted: UInt64?, unit: (UInt64) -> String) throws(Errno) -> UInt64? {
            guard let wanted else { return current }
            if wanted == 0 { throw Errno.inval.with(reason: "\(name) must be greater than zero") }
            if let current, wanted > current {
                throw Errno.inval.with(reason: "\(name) \(unit(wanted)) is above the instance's limit of \(unit(current)); a run may only lower it")
            }
            return wanted
        }
        result.memory = try lower("memory limit", memory, overrides.memory, unit: ByteSize.format)!
        result.cpuTime = try lower("CPU-time limit", cpuTime, overrides.cpuTime, unit: DurationText.format)
        result.wallTime = try lower("wall-clock limit", wallTime, overrides.wallTime, unit: DurationText.format)
        return result
    }
}
