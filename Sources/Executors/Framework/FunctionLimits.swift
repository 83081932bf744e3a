/// The limits one run of a function is held to. The WebAssembly and Python executors run the
/// function as a LibOS process under them; the builtin executor runs native code and ignores them.
public struct FunctionLimits: Sendable, Hashable {
    /// The most linear memory the function's process may grow to, in bytes.
    public var memory: UInt64
    /// Wall-clock time from the start of the run, in nanoseconds; over it the run fails with
    /// "deadline … exceeded".
    public var timeout: UInt64
    /// CPU time of the function's process, in nanoseconds (`nil`: the timeout bounds it).
    public var cpuTime: UInt64?

    /// Limits of `memory` bytes, a `timeout` and (optionally) `cpuTime`, both in nanoseconds.
    public init(memory: UInt64 = FunctionLimits.standard.memory, timeout: UInt64 = FunctionLimits.standard.timeout, cpuTime: UInt64? = nil) {
        self.memory = memory
        self.timeout = timeout
        self.cpuTime = cpuTime
    }

    /// 256 MiB of memory and a 60-second deadline.
    public static let standard = FunctionLimits(memory: 256 << 20, timeout: 60_000_000_000, cpuTime: nil)

    /// `timeout` as text ("2s", "1.5s").
    var timeoutText: String {
        let seconds = Double(timeout) / 1e9
        return seconds == seconds.rounded() ? "\(Int(seconds))s" : "\(seconds)s"
    }
}
