import CCloisterABI

/// A signal, numbered as Linux numbers them (the numbers `cloister.h` defines).
public struct Signal: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let hangup = Signal(rawValue: CLOISTER_SIGHUP)
    public static let interrupt = Signal(rawValue: CLOISTER_SIGINT)
    public static let quit = Signal(rawValue: CLOISTER_SIGQUIT)
    public static let illegalInstruction = Signal(rawValue: CLOISTER_SIGILL)
    public static let abort = Signal(rawValue: CLOISTER_SIGABRT)
    public static let kill = Signal(rawValue: CLOISTER_SIGKILL)
    public static let segmentationFault = Signal(rawValue: CLOISTER_SIGSEGV)
    public static let pipe = Signal(rawValue: CLOISTER_SIGPIPE)
    public static let terminate = Signal(rawValue: CLOISTER_SIGTERM)
    public static let child = Signal(rawValue: CLOISTER_SIGCHLD)
    public static let cpuLimit = Signal(rawValue: CLOISTER_SIGXCPU)

    /// Whether the number names a signal at all (1…31).
    public var isValid: Bool { rawValue >= 1 && rawValue <= 31 }

    /// Whether the default action of this signal ends the process.
    var terminatesByDefault: Bool {
        switch rawValue {
        case 17, 18, 23, 28: return false  // SIGCHLD, SIGCONT, SIGURG, SIGWINCH: ignored
        default: return true
        }
    }

    /// Whether the default action of this signal stops the process (not supported: `ENOTSUP`).
    var stopsByDefault: Bool { [19, 20, 21, 22].contains(rawValue) }

    /// Converts a WASI preview1 signal number (`proc_raise`) to this numbering.
    init?(wasi: UInt8) {
        let table: [Int32] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31]
        guard wasi >= 1, Int(wasi) < table.count else { return nil }
        self.init(rawValue: table[Int(wasi)])
    }

    public var description: String {
        let names: [Int32: String] = [
            1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
            8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
            14: "SIGALRM", 15: "SIGTERM", 17: "SIGCHLD", 18: "SIGCONT", 19: "SIGSTOP", 20: "SIGTSTP",
            21: "SIGTTIN", 22: "SIGTTOU", 23: "SIGURG", 24: "SIGXCPU", 25: "SIGXFSZ", 26: "SIGVTALRM",
            27: "SIGPROF", 28: "SIGWINCH", 29: "SIGIO", 30: "SIGPWR", 31: "SIGSYS",
        ]
        return names[rawValue] ?? "signal \(rawValue)"
    }
}
