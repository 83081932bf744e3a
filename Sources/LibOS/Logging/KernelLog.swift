#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging

/// The kernel's log: lines carry time, level, process and thread id and the syscall counter.
///
/// The level is fixed when the instance starts. A release instance (`debuggable: false`) is
/// always `off`, whatever the environment asks. Callers check ``isEnabled(_:)`` before building
/// a message, so a disabled level costs one comparison; guest data (buffer contents) is never
/// passed to the log at any level.
public struct KernelLog: Sendable {
    public let level: LogLevel
    private let logger: Logger

    /// A log at `level` writing to `sink` (standard error by default).
    public init(level: LogLevel, sink: LogSink = .standardError) {
        self.level = level
        var logger = Logger(label: "cloister.libos") { label in CloisterLogHandler(sink: sink) }
        logger.logLevel = level.swiftLogLevel
        self.logger = logger
    }

    @inline(__always)
    public func isEnabled(_ level: LogLevel) -> Bool { level != .off && level <= self.level }

    /// Writes `message` at `level`, tagged with the process, thread and syscall counter.
    public func log(_ level: LogLevel, _ message: @autoclosure () -> String, pid: Int32 = 0, tid: Int32 = 0, syscall: UInt64 = 0) {
        guard isEnabled(level) else { return }
        logger.log(
            level: level.swiftLogLevel, "\(message())",
            metadata: ["pid": "\(pid)", "tid": "\(tid)", "sys": "\(syscall)"])
    }
}

extension LogLevel {
    var swiftLogLevel: Logger.Level {
        switch self {
        case .off: return .critical
        case .error: return .error
        case .warn: return .warning
        case .info: return .info
        case .debug: return .debug
        case .trace: return .trace
        }
    }
}

/// Where log lines go.
public final class LogSink: @unchecked Sendable {
    private let lock = KernelLock()
    private let write: @Sendable (String) -> Void
    private var captured: [String] = []
    private let captures: Bool

    /// A sink calling `write` for each line.
    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.write = write
        self.captures = false
    }

    private init(capturing: Bool) {
        self.write = { _ in }
        self.captures = capturing
    }

    /// Standard error of the host process.
    public static let standardError = LogSink { line in
        var bytes = Array(line.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// A sink that keeps the lines in memory, for tests.
    public static func memory() -> LogSink { LogSink(capturing: true) }

    /// The lines a memory sink kept.
    public var lines: [String] { lock.withLock { captured } }

    func emit(_ line: String) {
        if captures { lock.withLock { captured.append(line) } } else { write(line) }
    }
}

/// Formats `time [level] pid=… tid=… sys=… message`.
struct CloisterLogHandler: LogHandler {
    let sink: LogSink
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let values = metadata.merging(event.metadata ?? [:]) { $1 }
        let time = ISO8601DateFormatter.string(from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        let level: String
        switch event.level {
        case .trace: level = "trace"
        case .debug: level = "debug"
        case .info, .notice: level = "info"
        case .warning: level = "warn"
        case .error, .critical: level = "error"
        }
        let pid = values["pid"].map { "\($0)" } ?? "0"
        let tid = values["tid"].map { "\($0)" } ?? "0"
        let sys = values["sys"].map { "\($0)" } ?? "0"
        sink.emit("\(time) [\(level)] pid=\(pid) tid=\(tid) sys=\(sys) \(event.message)\n")
    }
}
