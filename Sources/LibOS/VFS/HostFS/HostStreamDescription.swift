#if canImport(Glibc)
import Glibc
#endif

/// A host descriptor handed to a guest as a stream: its standard input, output or error.
/// The LibOS does not own the descriptor and never closes it.
final class HostStreamDescription: FileDescription, @unchecked Sendable {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    var fileType: FileType {
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0 else { return .unknown }
        switch st.st_mode & S_IFMT {
        case S_IFCHR: return .characterDevice
        case S_IFREG: return .regularFile
        case S_IFSOCK: return .socketStream
        default: return .unknown
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try hostCall { Glibc.read(fd, buffer.baseAddress, buffer.count) }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try write(buffer, isInterrupted: { false })
    }

    /// Writes everything, waiting for room at most 50 ms at a time and giving up with `EINTR`
    /// once `isInterrupted` says so, so a reader that never drains cannot hold the guest's
    /// thread forever: once the descriptor polls writable, a write of at most `PIPE_BUF` bytes
    /// does not block. A closed reader is `EPIPE` for the guest and never a SIGPIPE for the
    /// host: the signal is blocked on this thread for the write and a pending one is consumed.
    func write(_ buffer: UnsafeRawBufferPointer, isInterrupted: () -> Bool) throws(Errno) -> Int {
        var pipeSignal = sigset_t()
        sigemptyset(&pipeSignal)
        sigaddset(&pipeSignal, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
        defer {
            var none = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&pipeSignal, nil, &none) == SIGPIPE {}
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        var written = 0
        while written < buffer.count {
            while !isReady(events: Int16(POLLOUT), timeoutMilliseconds: 50) {
                if isInterrupted() {
                    if written > 0 { return written }
                    throw .intr
                }
            }
            let chunk = min(buffer.count - written, 4096)  // PIPE_BUF
            written += try hostCall { Glibc.write(fd, buffer.baseAddress! + written, chunk) }
        }
        return written
    }

    func stat() throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try hostCall { fstat(fd, &st) }
        var result = fileStat(st, device: 0)
        result.type = fileType
        return result
    }

    var wouldBlockOnRead: Bool { !isReady(events: Int16(POLLIN), timeoutMilliseconds: 0) }

    /// Waits up to `timeoutMilliseconds` for the descriptor to become ready.
    func isReady(events: Int16, timeoutMilliseconds: Int32) -> Bool {
        var request = pollfd(fd: fd, events: events, revents: 0)
        return poll(&request, 1, timeoutMilliseconds) != 0
    }
}
