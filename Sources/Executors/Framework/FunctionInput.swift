import ProtectedFiles

/// An input of a running function: its plaintext as a stream, decrypted piece by piece.
///
/// Read it in byte counts (`read(maxCount:)`), line by line (`nextLine()`, in memory bounded by
/// the longest line) or whole (`readAll()`, `readText()`). For an aes-gcm input the bytes are
/// authenticated only when the end is reached, so a function must read to the end before its
/// result counts (every builtin does).
public final class FunctionInput {
    /// The name the function declared.
    public let name: String
    /// The number of lines `nextLine()` has returned.
    public private(set) var lineNumber = 0
    /// The longest line `nextLine()` accepts, in bytes without its end (4 MiB).
    public static let maxLineLength = 4 << 20

    private let reader: ProtectedFileReader
    private var buffer: [UInt8] = []
    private var start = 0
    private var atEnd = false

    init(name: String, file: StagedFile) throws(ExecutorError) {
        self.name = name
        reader = try ExecutorError.onFile(name) {
            try ProtectedFileReader(
                scheme: file.scheme, key: file.key, iv: file.iv, input: try HostFile.openForReading(file.path))
        }
    }

    /// Up to `maxCount` (> 0) bytes of plaintext; empty only at the end.
    public func read(maxCount: Int) throws(ExecutorError) -> [UInt8] {
        precondition(maxCount > 0, "read(maxCount:) needs a positive count")
        while start == buffer.count, !atEnd { try fill() }
        let end = min(buffer.count, start + maxCount)
        defer { start = end }
        return Array(buffer[start..<end])
    }

    /// The rest of the plaintext.
    public func readAll() throws(ExecutorError) -> [UInt8] {
        while !atEnd { try fill() }
        defer { start = buffer.count }
        return Array(buffer[start...])
    }

    /// The rest of the plaintext as UTF-8 text.
    public func readText() throws(ExecutorError) -> String {
        guard let text = String(validating: try readAll(), as: UTF8.self) else {
            throw .badInput(name: name, line: nil, reason: "not valid UTF-8 text")
        }
        return text
    }

    /// The next line without its end (`\n` or `\r\n`), or nil at the end. A last line without a
    /// newline is a line; the newline ending the last line does not start another one.
    public func nextLine() throws(ExecutorError) -> String? {
        var scanned = start
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                var end = newline
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                return try takeLine(upTo: end, next: newline + 1)
            }
            if atEnd {
                return start == buffer.count ? nil : try takeLine(upTo: buffer.count, next: buffer.count)
            }
            // Past the limit already (with room for the `\r` of a `\r\n` to come): stop reading.
            guard buffer.count - start <= Self.maxLineLength + 1 else { throw lineTooLong() }
            let offset = scanned - start
            try fill()
            scanned = start + offset
        }
    }

    private func takeLine(upTo end: Int, next: Int) throws(ExecutorError) -> String {
        guard end - start <= Self.maxLineLength else { throw lineTooLong() }
        lineNumber += 1
        defer { start = next }
        guard let line = String(validating: buffer[start..<end], as: UTF8.self) else {
            throw .badInput(name: name, line: lineNumber, reason: "not valid UTF-8 text")
        }
        return line
    }

    private func lineTooLong() -> ExecutorError {
        .badInput(name: name, line: lineNumber + 1, reason: "longer than \(Self.maxLineLength) bytes")
    }

    /// Appends the next decrypted piece to the buffer, first dropping what was consumed.
    private func fill() throws(ExecutorError) {
        guard let piece = try ExecutorError.onFile(name, { try reader.read() }) else {
            atEnd = true
            return
        }
        buffer.removeSubrange(0..<start)
        start = 0
        buffer.append(contentsOf: piece)
    }
}
