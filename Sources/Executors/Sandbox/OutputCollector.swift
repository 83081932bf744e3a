import Foundation
import Synchronization

/// Collects what a guest writes to one of its standard streams: a host pipe whose write end the
/// kernel gives the guest, drained by a reader thread into memory (never to disk: a function's
/// output is confidential), at most `limit` bytes kept.
final class OutputCollector: @unchecked Sendable {
    /// The descriptor the guest's stream writes to.
    let writeDescriptor: Int32
    private let readDescriptor: Int32
    private let limit: Int
    private let condition = NSCondition()
    private var bytes: [UInt8] = []
    private var dropped = 0
    private var isDrained = false
    private var writeClosed = false

    /// A pipe and its reader thread, keeping at most `limit` bytes.
    init(limit: Int) throws(ExecutorError) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw .unavailable("cannot create a pipe for the function's output: errno \(errno)") }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
        self.limit = limit
        let thread = Thread { [self] in drain() }
        thread.name = "cloister-output"
        thread.start()
    }

    deinit {
        closeWriteEnd()
        condition.withLock { while !isDrained { condition.wait() } }
        close(readDescriptor)
    }

    private func drain() {
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(readDescriptor, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            condition.withLock {
                let room = max(0, limit - bytes.count)
                bytes.append(contentsOf: buffer[..<min(count, room)])
                dropped += count - min(count, room)
                condition.broadcast()
            }
        }
        condition.withLock {
            isDrained = true
            condition.broadcast()
        }
    }

    /// Waits until the bytes collected so far contain `marker`, `deadline` passes, or the stream
    /// ends; whether the marker was seen.
    func waitFor(_ marker: [UInt8], until deadline: Date) -> Bool {
        condition.withLock {
            while true {
                if bytes.firstRange(of: marker) != nil { return true }
                if isDrained || !condition.wait(until: deadline) { return false }
            }
        }
    }

    private func closeWriteEnd() {
        condition.withLock {
            guard !writeClosed else { return }
            writeClosed = true
            close(writeDescriptor)
        }
    }

    /// Closes the guest's end, waits for the reader to drain the pipe, and returns what was
    /// collected (and how many bytes beyond the limit were dropped). Call once the process ended.
    func finish() -> (bytes: [UInt8], dropped: Int) {
        closeWriteEnd()
        return condition.withLock {
            while !isDrained { condition.wait() }
            return (bytes, dropped)
        }
    }
}
