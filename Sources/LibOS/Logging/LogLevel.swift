/// How much the LibOS logs, from `CLOISTER_LOG_LEVEL` or the entry API.
public enum LogLevel: Int, Sendable, Comparable, CaseIterable, CustomStringConvertible {
    case off = 0, error, warn, info, debug, trace

    /// Parses `off`, `error`, `warn` (or `warning`), `info`, `debug`, `trace`, in any case.
    public init?(parsing text: String) {
        switch text.lowercased() {
        case "off", "none": self = .off
        case "error": self = .error
        case "warn", "warning": self = .warn
        case "info": self = .info
        case "debug": self = .debug
        case "trace": self = .trace
        default: return nil
        }
    }

    public static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .off: return "off"
        case .error: return "error"
        case .warn: return "warn"
        case .info: return "info"
        case .debug: return "debug"
        case .trace: return "trace"
        }
    }
}
