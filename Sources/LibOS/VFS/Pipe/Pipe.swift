/// A pipe: a bounded byte queue between a read end and a write end, usually in two processes.
///
/// A read blocks while the pipe is empty and a writer remains, and returns 0 (end of file)
/// once every write end is closed. A write blocks while the pipe is full, and fails with
/// `EPIPE` — raising SIGPIPE in the writer, whose default action ends it — once every read end
/// is closed. Both waits go through the pipe's ``queue`` (``Blocking/wait(on:until:_:)``), so they
/// end early when the calling process is killed, and `poll_oneoff` waits on the same queue.
///
/// Readiness, as Linux's `pipe_poll`: the read end is readable while the pipe holds bytes and
/// hung up once every writer is gone; the write end is writable while a `PIPE_BUF` write fits
/// and in error once every reader is gone.
final class Pipe: @unchecked Sendable {
    /// The capacity, as Linux's default.
    static let capacity = 64 * 1024
    /// PIPE_BUF: writes of at most this many bytes are never interleaved with others.
    static let atomicWriteSize = 4096

    let lock = KernelLock()
    /// Both ends' waiters: readers wait for readable, writers for writable.
    let queue = WaiterQueue()
    private var buffer = [UInt8](repeating: 0, count: Pipe.capacity)
    private var head = 0
    private var count = 0
    private var readers = 1
    private var writers = 1

    /// A new pipe's read end and write end.
    static func make() -> (read: PipeReadEnd, write: PipeWriteEnd) {
        let pipe = Pipe()
        return (PipeReadEnd(pipe), PipeWriteEnd(pipe))
    }

    /// Blocks the caller until `attempt` (run with the lock held) has an answer; `events` is
    /// what the caller waits for.
    private func wait<T>(for events: Events, _ attempt: () throws(Errno) -> T?) throws(Errno) -> T {
        try Blocking.wait(on: [WaitInterest(queue, events)]) { () throws(Errno) -> T? in
            try lock.withLock(attempt)
        }
    }

    fileprivate func read(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if destination.isEmpty { return 0 }
        let taken = try wait(for: .readable) { () -> Int? in
            if count == 0 { return writers == 0 ? 0 : nil }
            return takeLocked(into: destination)
        }
        if taken > 0 { queue.notify(.writable) }
        return taken
    }

    /// Reads what the pipe holds now: `EAGAIN` when it is empty and a writer remains.
    fileprivate func readNow(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if destination.isEmpty { return 0 }
        let taken = try lock.withLock { () throws(Errno) -> Int in
            if count == 0 {
                if writers == 0 { return 0 }
                throw .again
            }
            return takeLocked(into: destination)
        }
        if taken > 0 { queue.notify(.writable) }
        return taken
    }

    /// Moves up to `destination.count` queued bytes out. With the lock held.
    private func takeLocked(into destination: UnsafeMutableRawBufferPointer) -> Int {
        var copied = 0
        while copied < destination.count && count > 0 {
            let run = min(destination.count - copied, count, Pipe.capacity - head)
            buffer.withUnsafeBytes { source in
                (destination.baseAddress! + copied).copyMemory(from: source.baseAddress! + head, byteCount: run)
            }
            head = (head + run) % Pipe.capacity
            count -= run
            copied += run
        }
        return copied
    }

    fileprivate func write(_ source: UnsafeRawBufferPointer) throws(Errno) -> Int {
        var written = 0
        while written < source.count || source.isEmpty {
            let step: Int
            do {
                step = try wait(for: .writable) { () throws(Errno) -> Int? in
                    if readers == 0 { throw .pipe }
                    if source.isEmpty { return 0 }
                    if count == Pipe.capacity { return nil }
                    // POSIX: a write of at most PIPE_BUF bytes is atomic — it waits for room for all of it.
                    if source.count <= Pipe.atomicWriteSize && Pipe.capacity - count < source.count { return nil }
                    var copied = 0
                    while written + copied < source.count && count < Pipe.capacity {
                        let tail = (head + count) % Pipe.capacity
                        let run = min(source.count - written - copied, Pipe.capacity - count, Pipe.capacity - tail)
                        buffer.withUnsafeMutableBytes { target in
                            (target.baseAddress! + tail).copyMemory(from: source.baseAddress! + written + copied, byteCount: run)
                        }
                        count += run
                        copied += run
                    }
                    return copied
                }
            } catch {
                // SIGPIPE is raised here, with the pipe's lock released: delivering it ends the
                // process and interrupts its threads, whose waits may need that lock.
                if error == .pipe { GuestThread.current?.process.deliver(.pipe, reason: "wrote to a pipe with no reader") }
                // Bytes already in the pipe stay written: report them, as write(2) does.
                if written > 0 && error == .intr { return written }
                throw error
            }
            if source.isEmpty { return 0 }
            if step > 0 { queue.notify(.readable) }
            written += step
        }
        return written
    }

    fileprivate var readableBytes: Int { lock.withLock { count } }

    /// The read end's readiness.
    fileprivate var readEndReadiness: Events {
        lock.withLock {
            var ready: Events = []
            if count > 0 { ready.insert(.readable) }
            if writers == 0 { ready.insert(.hangUp) }
            return ready
        }
    }

    /// The write end's readiness.
    fileprivate var writeEndReadiness: Events {
        lock.withLock {
            var ready: Events = []
            if Pipe.capacity - count >= Pipe.atomicWriteSize { ready.insert(.writable) }
            if readers == 0 { ready.insert(.error) }
            return ready
        }
    }

    fileprivate func closeReadEnd() {
        lock.withLock { readers -= 1 }
        queue.notify(.error)
    }

    fileprivate func closeWriteEnd() {
        lock.withLock { writers -= 1 }
        queue.notify(.hangUp)
    }
}

/// The read end of a ``Pipe``.
final class PipeReadEnd: FileDescription, @unchecked Sendable {
    private let pipe: Pipe
    fileprivate init(_ pipe: Pipe) { self.pipe = pipe }

    var fileType: FileType { .unknown }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { try pipe.read(into: buffer) }
    func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { try pipe.readNow(into: buffer) }
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int { throw .badf }
    func stat() throws(Errno) -> FileStat { FileStat.pipe }
    func readableBytes() -> UInt64? { UInt64(pipe.readableBytes) }
    func readiness(_ mask: Events) -> Events { pipe.readEndReadiness.intersection(mask.withUnmaskable) }
    var waiterQueue: WaiterQueue { pipe.queue }
    func close() { pipe.closeReadEnd() }
}

/// The write end of a ``Pipe``.
final class PipeWriteEnd: FileDescription, @unchecked Sendable {
    private let pipe: Pipe
    fileprivate init(_ pipe: Pipe) { self.pipe = pipe }

    var fileType: FileType { .unknown }
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { throw .badf }
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int { try pipe.write(buffer) }
    func stat() throws(Errno) -> FileStat { FileStat.pipe }
    func readiness(_ mask: Events) -> Events { pipe.writeEndReadiness.intersection(mask.withUnmaskable) }
    var waiterQueue: WaiterQueue { pipe.queue }
    func close() { pipe.closeWriteEnd() }
}

extension FileStat {
    /// What `fd_filestat_get` answers for a pipe end (WASI has no FIFO file type).
    static let pipe = FileStat(device: 0, inode: 0, type: .unknown, linkCount: 1, size: 0, accessTime: 0, modificationTime: 0, changeTime: 0)
}
