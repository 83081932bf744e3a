/// How a process ended, encoded as wait(2) encodes it.
public struct WaitStatus: Sendable, Equatable, CustomStringConvertible {
    /// The wait(2) encoding: exit code in bits 8–15, or the terminating signal in bits 0–6.
    public let rawValue: Int32
    /// Why the process ended when it did not exit by itself (a trap, a kill, a limit).
    public let reason: String?
    /// The value the process's function entry returned (``ProgramEntry/function(_:)``), when it
    /// returned; commentary like `reason`.
    public let returnValue: Int32?

    /// Two statuses are equal when their wait(2) encodings are; the reason is commentary.
    public static func == (lhs: WaitStatus, rhs: WaitStatus) -> Bool { lhs.rawValue == rhs.rawValue }

    public init(rawValue: Int32, reason: String? = nil, returnValue: Int32? = nil) {
        self.rawValue = rawValue
        self.reason = reason
        self.returnValue = returnValue
    }

    /// A process that exited with `code` (only the low 8 bits are kept, as on POSIX).
    public static func exited(_ code: Int32) -> WaitStatus { WaitStatus(rawValue: (code & 0xff) << 8) }

    /// A process terminated by `signal`.
    public static func signaled(_ signal: Signal, reason: String? = nil) -> WaitStatus {
        WaitStatus(rawValue: signal.rawValue & 0x7f, reason: reason)
    }

    /// The exit code, when the process exited.
    public var exitCode: Int32? { rawValue & 0x7f == 0 ? (rawValue >> 8) & 0xff : nil }
    /// The signal, when a signal terminated the process.
    public var signal: Signal? { rawValue & 0x7f == 0 ? nil : Signal(rawValue: rawValue & 0x7f) }

    /// The exit code a shell reports: the code, or 128 + signal.
    public var shellExitCode: Int32 { exitCode ?? (128 + (signal?.rawValue ?? 0)) }

    public var description: String {
        if let exitCode { return "exited with \(exitCode)" }
        let name = signal.map { "\($0)" } ?? "?"
        return "killed by \(name)" + (reason.map { ": \($0)" } ?? "")
    }
}
