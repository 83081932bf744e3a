#if canImport(Glibc)
import Glibc
#endif

/// A host descriptor handed to a guest as a stream: its standard input, output or error.
/// The LibOS does not own the descriptor and never closes it.
///
/// **No host call on a stream ever blocks.** The descriptor may be a pipe nobody fills or
/// drains, a terminal, a socket; blocking in `read(2)` or `write(2)` would hold a host thread past
/// every kill, deadline and shutdown. So a transfer happens only once `poll` says the descriptor
/// is ready, and then moves no more than cannot block: a read takes at most what `FIONREAD`
/// reports (end of file reads 0 at once), a write at most `PIPE_BUF` bytes (what a pipe that
/// polls writable always takes; sockets are written with `MSG_DONTWAIT`). The check and the
/// transfer hold one lock (``transfers``), so another guest thread cannot empty or fill the
/// stream in between. A transfer that cannot happen yet waits outside that lock, on the
/// description's ``waiterQueue`` like every other wait in the kernel: the ``HostNotifier``
/// watches the descriptor while someone waits and notifies the queue when it changes, and the
/// wait ends with `EINTR` as soon as the calling guest's process is ending.
final class HostStreamDescription: FileDescription, @unchecked Sendable {
    let fd: Int32
    /// Its waiters; while any waits, the host notifier watches `fd` for them.
    let waiterQueue: WaiterQueue
    /// Whether the descriptor is a socket (written with `send`, which never raises SIGPIPE).
    private let isSocket: Bool
    /// Serializes readiness checks with the transfers that follow them, for every host stream.
    /// It is never held while waiting.
    private static let transfers = KernelLock()

    init(fd: Int32) {
        self.fd = fd
        waiterQueue = WaiterQueue(interestChanged: { (queue, events) throws(Errno) in
            try HostNotifier.shared.setInterest(events, fd: fd, queue: queue)
        })
        var st = Glibc.stat()
        isSocket = fstat(fd, &st) == 0 && st.st_mode & S_IFMT == S_IFSOCK
    }

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

    /// Reads what is there, waiting for input while the calling guest's process lives.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try Blocking.wait(on: [WaitInterest(waiterQueue, .readable)]) { () throws(Errno) -> Int? in
            do throws(Errno) {
                return try readNow(into: buffer)
            } catch where error == .again {
                return nil
            }
        }
    }

    /// Reads what is there now; `EAGAIN` when nothing is (and the stream has not ended).
    func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if buffer.isEmpty { return 0 }
        return try Self.transfers.withLock { () throws(Errno) -> Int in
            guard isReady(events: Int16(POLLIN)) else { throw .again }
            // Ready with nothing to read is the end of the stream: read answers 0 at once.
            var available: Int32 = 0
            var count = buffer.count
            if ioctl(fd, UInt(FIONREAD), &available) == 0, available > 0 { count = min(count, Int(available)) }
            while true {
                let result = Glibc.read(fd, buffer.baseAddress, count)
                if result >= 0 { return result }
                if errno == EINTR { continue }
                throw errno == EAGAIN ? .again : Errno(host: errno)
            }
        }
    }

    /// Writes everything, waiting for room while the calling guest's process lives; once it is
    /// ending, answers what was written (or `EINTR` for nothing). A closed reader is `EPIPE` for
    /// the guest and never a SIGPIPE for the host: the signal is blocked on this thread for the
    /// write and a pending one is consumed.
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
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
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[written..<min(buffer.count, written + Pipe.atomicWriteSize)])
            do throws(Errno) {
                written += try Blocking.wait(on: [WaitInterest(waiterQueue, .writable)]) { () throws(Errno) -> Int? in try writeNow(chunk) }
            } catch {
                if written > 0 { return written }
                throw error
            }
        }
        return written
    }

    /// Writes `chunk` (at most `PIPE_BUF` bytes) if the stream has room now; nil when it has not.
    private func writeNow(_ chunk: UnsafeRawBufferPointer) throws(Errno) -> Int? {
        try Self.transfers.withLock { () throws(Errno) -> Int? in
            guard isReady(events: Int16(POLLOUT)) else { return nil }
            while true {
                let result = isSocket
                    ? send(fd, chunk.baseAddress, chunk.count, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
                    : Glibc.write(fd, chunk.baseAddress, chunk.count)
                if result >= 0 { return result }
                if errno == EINTR { continue }
                if errno == EAGAIN { return nil }
                throw Errno(host: errno)
            }
        }
    }

    func stat() throws(Errno) -> FileStat {
        var st = Glibc.stat()
        _ = try hostCall { fstat(fd, &st) }
        var result = fileStat(st, device: 0)
        result.type = fileType
        return result
    }

    func readiness(_ mask: Events) -> Events { HostReadiness.of(fd, mask) }

    /// Bytes a read would take now (`FIONREAD`), for `poll_oneoff`'s `nbytes`.
    func readableBytes() -> UInt64? {
        var available: Int32 = 0
        guard ioctl(fd, UInt(FIONREAD), &available) == 0, available >= 0 else { return nil }
        return UInt64(available)
    }

    /// Whether the descriptor is ready for `events` now (an error or a hang-up counts: the
    /// transfer that follows reports it).
    private func isReady(events: Int16) -> Bool {
        var request = pollfd(fd: fd, events: events, revents: 0)
        return poll(&request, 1, 0) > 0
    }
}
