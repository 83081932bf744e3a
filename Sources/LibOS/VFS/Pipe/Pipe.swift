/// A pipe: a bounded byte queue between a read end and a write end, usually in two processes.
///
/// A read blocks while the pipe is empty and a writer remains, and returns 0 (end of file)
/// once every write end is closed. A write blocks while the pipe is full, and fails with
/// `EPIPE` — raising SIGPIPE in the writer, whose default action ends it — once every read end
/// is closed. Both waits end early when the calling process is killed (``GuestThread/block(on:until:_:)``).
final class Pipe: @unchecked Sendable {
    /// The capacity, as Linux's default.
    static let capacity = 64 * 1024
    /// PIPE_BUF: writes of at most this many bytes are never interleaved with others.
    static let atomicWriteSize = 4096

    let lock = KernelLock()
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

    /// Blocks the calling guest thread on the pipe until `attempt` has an answer.
    private func wait<T>(_ attempt: () throws(Errno) -> T?) throws(Errno) -> T {
        guard let thread = GuestThread.current else {
            return try lock.withLock { () throws(Errno) -> T in
                while true {
                    if let value = try attempt() { return value }
                    _ = lock.wait(untilMonotonic: nil)
                }
            }
        }
        return try thread.block(on: lock, attempt)
    }

    fileprivate func read(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if destination.isEmpty { return 0 }
        return try wait { () -> Int? in
            if count == 0 { return writers == 0 ? 0 : nil }
            return takeLocked(into: destination)
        }
    }

    /// Reads what the pipe holds now: `EAGAIN` when it is empty and a writer remains.
    fileprivate func readNow(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        if destination.isEmpty { return 0 }
        return try lock.withLock { () throws(Errno) -> Int in
            if count == 0 {
                if writers == 0 { return 0 }
                throw .again
            }
            return takeLocked(into: destination)
        }
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
        lock.broadcast()
        return copied
    }

    fileprivate func write(_ source: UnsafeRawBufferPointer) throws(Errno) -> Int {
        var written = 0
        while written < source.count || source.isEmpty {
            let step: Int
            do {
                step = try wait { () throws(Errno) -> Int? in
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
                    lock.broadcast()
                    return copied
                }
            } catch {
                // SIGPIPE is raised here, with the pipe's lock released: delivering it ends the
                // process and wakes its threads, this one included, through the lock it waits on.
                if error == .pipe { GuestThread.current?.process.deliver(.pipe, reason: "wrote to a pipe with no reader") }
                // Bytes already in the pipe stay written: report them, as write(2) does.
                if written > 0 && error == .intr { return written }
                throw error
            }
            if source.isEmpty { return 0 }
            written += step
        }
        return written
    }

    fileprivate var readableBytes: Int { lock.withLock { count } }
    fileprivate var wouldBlockOnRead: Bool { lock.withLock { count == 0 && writers > 0 } }

    fileprivate func closeReadEnd() {
        lock.withLock {
            readers -= 1
            lock.broadcast()
        }
    }

    fileprivate func closeWriteEnd() {
        lock.withLock {
            writers -= 1
            lock.broadcast()
        }
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
    var wouldBlockOnRead: Bool { pipe.wouldBlockOnRead }
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
    func close() { pipe.closeWriteEnd() }
}

extension FileStat {
    /// What `fd_filestat_get` answers for a pipe end (WASI has no FIFO file type).
    static let pipe = FileStat(device: 0, inode: 0, type: .unknown, linkCount: 1, size: 0, accessTime: 0, modificationTime: 0, changeTime: 0)
}
