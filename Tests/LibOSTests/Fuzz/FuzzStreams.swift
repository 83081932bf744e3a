import Foundation
@testable import LibOS

/// The host descriptors one fuzz execution gets as standard input, output and error, each in a
/// state drawn at random: a pipe that is empty (a read is not ready), holds data, or is at end
/// of file; an output pipe with room, full (a write is not ready) or without a reader (EPIPE);
/// regular files; `/dev/null`; a read end the embedder left `O_NONBLOCK`.
///
/// The fuzzer keeps the other end of each pipe, so its watchdog can make a blocked stream ready
/// (``makeReady()``) before it resorts to killing the process.
final class FuzzStreams: @unchecked Sendable {
    let stdio: Kernel.StandardIO
    /// What was drawn, for reports: e.g. "stdin=empty-pipe stdout=full-pipe".
    let summary: String
    private let lock = NSLock()
    private var feed: Int32 = -1
    private var drain: Int32 = -1
    private var owned: [Int32] = []

    init(random: inout FuzzRandom, scratch: URL) {
        func pipePair() -> (Int32, Int32) {
            var fds: [Int32] = [0, 0]
            precondition(pipe(&fds) == 0)
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        func file(_ name: String, _ contents: String, flags: Int32) -> Int32 {
            let path = scratch.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: Data(contents.utf8))
            return open(path, flags | O_CLOEXEC)
        }
        var owned: [Int32] = []
        var feed: Int32 = -1
        var drain: Int32 = -1
        var parts: [String] = []

        let input: Int32
        switch random.below(6) {
        case 0, 1:
            let (r, w) = pipePair()
            input = r
            feed = w
            parts.append("stdin=empty-pipe")
        case 2:
            let (r, w) = pipePair()
            _ = "fuzz input\nsecond line\n".withCString { write(w, $0, strlen($0)) }
            input = r
            feed = w
            parts.append("stdin=ready-pipe")
        case 3:
            let (r, w) = pipePair()
            _ = "last words".withCString { write(w, $0, strlen($0)) }
            Glibc.close(w)
            input = r
            parts.append("stdin=eof-pipe")
        case 4:
            let (r, w) = pipePair()
            _ = fcntl(r, F_SETFL, O_NONBLOCK)
            input = r
            feed = w
            parts.append("stdin=nonblocking-empty-pipe")
        default:
            input = random.chance(0.5) ? file("stdin", "file input\n", flags: O_RDONLY) : open("/dev/null", O_RDONLY | O_CLOEXEC)
            parts.append("stdin=file")
        }
        owned.append(input)

        let output: Int32
        switch random.below(6) {
        case 0, 1:
            let (r, w) = pipePair()
            output = w
            drain = r
            parts.append("stdout=pipe")
        case 2, 3:
            let (r, w) = pipePair()
            // Fill it: a write of the pipe's capacity completes without blocking, and then
            // the pipe is full.
            let capacity = Int(fcntl(w, 1032 /* F_GETPIPE_SZ */))
            let filler = [UInt8](repeating: 0x2e, count: max(capacity, 65_536))
            _ = fcntl(w, F_SETFL, O_NONBLOCK)
            _ = filler.withUnsafeBytes { write(w, $0.baseAddress, $0.count) }
            _ = fcntl(w, F_SETFL, 0)
            output = w
            drain = r
            parts.append("stdout=full-pipe")
        case 4:
            let (r, w) = pipePair()
            Glibc.close(r)
            output = w
            parts.append("stdout=broken-pipe")
        default:
            output = random.chance(0.5) ? file("stdout", "", flags: O_WRONLY | O_APPEND) : open("/dev/null", O_WRONLY | O_CLOEXEC)
            parts.append("stdout=file")
        }
        owned.append(output)
        let error = open("/dev/null", O_WRONLY | O_CLOEXEC)
        owned.append(error)

        if feed >= 0 { _ = fcntl(feed, F_SETFL, O_NONBLOCK); owned.append(feed) }
        if drain >= 0 { _ = fcntl(drain, F_SETFL, O_NONBLOCK); owned.append(drain) }
        self.feed = feed
        self.drain = drain
        self.owned = owned
        self.stdio = Kernel.StandardIO(input: input, output: output, error: error)
        self.summary = parts.joined(separator: " ")
    }

    /// Makes a blocked standard stream ready: input for the guest to read, room to write.
    func makeReady() {
        lock.lock()
        defer { lock.unlock() }
        if feed >= 0 { _ = "more input\n".withCString { write(feed, $0, strlen($0)) } }
        if drain >= 0 {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while buffer.withUnsafeMutableBytes({ read(drain, $0.baseAddress, $0.count) }) > 0 {}
        }
    }

    /// Closes every descriptor.
    func close() {
        lock.lock()
        defer { lock.unlock() }
        for fd in owned { Glibc.close(fd) }
        owned = []
        feed = -1
        drain = -1
    }

    deinit { close() }
}
