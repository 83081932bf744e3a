/// A pipe: a bounded byte queue between a read end and a write end, usually in two processes.
///
/// A read blocks while the pipe is empty and a writer remains, and returns 0 (end of file)
/// once every write end is closed. A write blocks while the pipe is full, and fails with
/// `EPIPE` — raising SIGPIPE in the writer, whose default action ends it — once every read end
/// is closed. Both waits go through the pipe's ``queue`` (``Blocking/wait(on:until:_:)``), so they
/// end early when the calling process is killed, and `poll_oneoff` waits on the same queue.
///
/// Its buffer is host memory a guest asked for, so it is charged to the instance's
/// ``MemoryBudget`` while the pipe lives (`ENOMEM` past `user_space_size`): a guest cannot make
/// the host hold thousands of pipes' or AF_UNIX connections' buffers beyond its limit.
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
    /// The queue of a plain pipe's two ends: readers wait for readable, writers for writable.
    let queue: WaiterQueue
    /// Every queue notified when the pipe changes: ``queue``, and for the byte streams of an
    /// AF_UNIX connection (``UnixSocket``) the queues of both sockets.
    private let queues: [WaiterQueue]
    private var buffer = [UInt8](repeating: 0, count: Pipe.capacity)
    private var head = 0
    private var count = 0
    private var readers = 1
    private var writers = 1
    private let budget: MemoryBudget

    /// A pipe whose changes notify `queues` (the first is where its ends wait by default), its
    /// buffer charged to `budget`.
    init(budget: MemoryBudget, queues: [WaiterQueue] = [WaiterQueue()]) throws(Errno) {
        try budget.charge(UInt64(Pipe.capacity), or: .nomem, for: "a pipe's \(Pipe.capacity / 1024) KiB buffer")
        self.budget = budget
        self.queues = queues
        self.queue = queues[0]
    }

    deinit { budget.release(UInt64(Pipe.capacity)) }

    /// A new pipe's read end and write end.
    static func make(budget: MemoryBudget) throws(Errno) -> (read: PipeReadEnd, write: PipeWriteEnd) {
        let pipe = try Pipe(budget: budget)
        return (PipeReadEnd(pipe), PipeWriteEnd(pipe))
    }

    private func notify(_ events: Events) {
        for queue in queues { queue.notify(events) }
    }

    /// Takes bytes into `destinations` in order (left in the pipe with `peek`): what the pipe
    /// holds, once it holds any, or 0 once no writer is left (or reading was shut down). When
    /// `waits` is false, `EAGAIN` instead of waiting; waits are on `waitQueue` (default ``queue``).
    func receive(
        into destinations: [UnsafeMutableRawBufferPointer], peek: Bool = false, waits: Bool, on waitQueue: WaiterQueue? = nil
    ) throws(Errno) -> Int {
        if destinations.allSatisfy(\.isEmpty) { return 0 }
        let attempt = { () throws(Errno) -> Int? in
            self.lock.withLock { () -> Int? in
                if self.count == 0 { return self.writers == 0 || self.readers == 0 ? 0 : nil }
                return self.copyOutLocked(into: destinations, consume: !peek)
            }
        }
        let taken: Int
        if waits {
            taken = try Blocking.wait(on: [WaitInterest(waitQueue ?? queue, .readable)], attempt)
        } else {
            guard let now = try attempt() else { throw .again }
            taken = now
        }
        if taken > 0 && !peek { notify(.writable) }
        return taken
    }

    fileprivate func read(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try receive(into: [destination], waits: true)
    }

    /// Reads what the pipe holds now: `EAGAIN` when it is empty and a writer remains.
    fileprivate func readNow(into destination: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try receive(into: [destination], waits: false)
    }

    /// Copies up to the destinations' room of queued bytes out, removing them when `consume`.
    /// With the lock held.
    private func copyOutLocked(into destinations: [UnsafeMutableRawBufferPointer], consume: Bool) -> Int {
        var copied = 0
        var position = head
        var left = count
        for destination in destinations {
            var filled = 0
            while filled < destination.count && left > 0 {
                let run = min(destination.count - filled, left, Pipe.capacity - position)
                buffer.withUnsafeBytes { source in
                    (destination.baseAddress! + filled).copyMemory(from: source.baseAddress! + position, byteCount: run)
                }
                position = (position + run) % Pipe.capacity
                left -= run
                filled += run
            }
            copied += filled
            if left == 0 { break }
        }
        if consume {
            head = position
            count = left
        }
        return copied
    }

    fileprivate func write(_ source: UnsafeRawBufferPointer) throws(Errno) -> Int {
        try send(source, waits: true, raisesSignal: true)
    }

    /// Writes `source`, waiting for room (on `waitQueue`, default ``queue``) unless `waits` is
    /// false: then what fits now, or `EAGAIN` when nothing does. With no reader left it is
    /// `EPIPE`, and SIGPIPE for the caller when `raisesSignal`.
    func send(_ source: UnsafeRawBufferPointer, waits: Bool, raisesSignal: Bool, on waitQueue: WaiterQueue? = nil) throws(Errno) -> Int {
        var written = 0
        while written < source.count || source.isEmpty {
            let step: Int
            do throws(Errno) {
                let attempt = { () throws(Errno) -> Int? in
                    try self.lock.withLock { () throws(Errno) -> Int? in
                        if self.readers == 0 || self.writers == 0 { throw .pipe }
                        if source.isEmpty { return 0 }
                        if self.count == Pipe.capacity { return nil }
                        // POSIX: a write of at most PIPE_BUF bytes is atomic — it waits for room for all of it.
                        if source.count <= Pipe.atomicWriteSize && Pipe.capacity - self.count < source.count { return nil }
                        return self.copyInLocked(UnsafeRawBufferPointer(rebasing: source[written...]))
                    }
                }
                if waits {
                    step = try Blocking.wait(on: [WaitInterest(waitQueue ?? queue, .writable)], attempt)
                } else if let now = try attempt() {
                    step = now
                } else {
                    if written > 0 { return written }
                    throw Errno.again
                }
            } catch {
                // SIGPIPE is raised here, with the pipe's lock released: delivering it ends the
                // process and interrupts its threads, whose waits may need that lock.
                if error == .pipe && raisesSignal { GuestThread.current?.process.deliver(.pipe, reason: "wrote to a pipe with no reader") }
                // Bytes already in the pipe stay written: report them, as write(2) does.
                if written > 0 && error == .intr { return written }
                throw error
            }
            if source.isEmpty { return 0 }
            if step > 0 { notify(.readable) }
            written += step
        }
        return written
    }

    /// Appends as much of `source` as fits. With the lock held.
    private func copyInLocked(_ source: UnsafeRawBufferPointer) -> Int {
        var copied = 0
        while copied < source.count && count < Pipe.capacity {
            let tail = (head + count) % Pipe.capacity
            let run = min(source.count - copied, Pipe.capacity - count, Pipe.capacity - tail)
            buffer.withUnsafeMutableBytes { target in
                (target.baseAddress! + tail).copyMemory(from: source.baseAddress! + copied, byteCount: run)
            }
            count += run
            copied += run
        }
        return copied
    }

    var readableBytes: Int { lock.withLock { count } }

    /// The read end's readiness.
    var readEndReadiness: Events {
        lock.withLock {
            var ready: Events = []
            if count > 0 { ready.insert(.readable) }
            if writers == 0 { ready.insert(.hangUp) }
            return ready
        }
    }

    /// The write end's readiness.
    var writeEndReadiness: Events {
        lock.withLock {
            var ready: Events = []
            if Pipe.capacity - count >= Pipe.atomicWriteSize { ready.insert(.writable) }
            if readers == 0 { ready.insert(.error) }
            return ready
        }
    }

    func closeReadEnd() {
        lock.withLock { readers -= 1 }
        notify(.error)
    }

    func closeWriteEnd() {
        lock.withLock { writers -= 1 }
        notify(.hangUp)
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
