#if canImport(Glibc)
import Glibc
#endif

/// An open file: what a guest's file descriptor points at.
///
/// Default implementations answer as a stream would (no seeking, no positional I/O, no
/// directory listing), so each kind implements only what applies to it.
///
/// **Readiness.** Every description says what it is ready for now (``readiness(_:)``) and where
/// to wait for that to change (``waiterQueue``): one model for pipes, host streams, files and
/// devices, which `poll_oneoff` and every blocking read and write use (``Blocking``, ``Waiter``).
/// Files and devices are always ready and keep the default, ``WaiterQueue/inert``.
public protocol FileDescription: AnyObject, Sendable {
    /// The inode behind the description; `nil` for anonymous streams.
    var inode: (any Inode)? { get }
    var fileType: FileType { get }

    /// Reads, waiting while a stream has nothing yet (interruptibly: `EINTR` once the calling
    /// guest's process is ending).
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    /// Reads what is there without waiting: `EAGAIN` when nothing is and the stream has not
    /// ended (`O_NONBLOCK`, and every buffer of a vectored read after the first).
    func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int
    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int
    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int
    func seek(_ offset: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64
    func stat() throws(Errno) -> FileStat
    func setSize(_ size: UInt64) throws(Errno)
    func setTimes(access: TimeChange, modification: TimeChange) throws(Errno)
    func sync() throws(Errno)
    func allocate(offset: UInt64, length: UInt64) throws(Errno)
    /// Whether writes append; changed by `fd_fdstat_set_flags`.
    var isAppending: Bool { get set }
    /// Bytes ready to read without blocking (`nil`: unknown), for `poll_oneoff`'s `nbytes`.
    func readableBytes() -> UInt64?
    /// What the description is ready for now, among `mask` and the unmaskable events
    /// (``Events/unmaskable``); never blocks.
    func readiness(_ mask: Events) -> Events
    /// The queue notified whenever the description's readiness may have changed.
    var waiterQueue: WaiterQueue { get }
    /// Releases what the description holds on the host.
    func close()
}

extension FileDescription {
    public var inode: (any Inode)? { nil }
    /// Files never wait: reading now is reading.
    public func readNow(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int { try read(into: buffer) }
    public func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { throw .spipe }
    public func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { throw .spipe }
    public func seek(_ offset: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 { throw .spipe }
    public func setSize(_ size: UInt64) throws(Errno) { throw .inval }
    public func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) {
        guard let inode else { throw .badf }
        try inode.setTimes(access: access, modification: modification)
    }
    public func sync() throws(Errno) {}
    public func allocate(offset: UInt64, length: UInt64) throws(Errno) { throw .notsup }
    public var isAppending: Bool {
        get { false }
        set {}
    }
    public func readableBytes() -> UInt64? { nil }
    /// Files and devices: reads and writes never wait.
    public func readiness(_ mask: Events) -> Events { mask.intersection([.readable, .writable]) }
    public var waiterQueue: WaiterQueue { .inert }
    public func close() {}
}

extension FileDescription {
    /// Writes `buffer` until all of it is taken or a write takes nothing; the bytes written.
    func writeFully(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int {
        var written = 0
        while written < buffer.count {
            let count = try write(UnsafeRawBufferPointer(rebasing: buffer[written...]))
            if count == 0 { break }
            written += count
        }
        return written
    }
}

/// Computes a seek target, refusing negative results and overflow.
func seekTarget(current: UInt64, end: UInt64, offset: Int64, origin: SeekOrigin) throws(Errno) -> UInt64 {
    let base: Int64
    switch origin {
    case .start: base = 0
    case .current: base = Int64(clamping: current)
    case .end: base = Int64(clamping: end)
    }
    let (target, overflow) = base.addingReportingOverflow(offset)
    if overflow || target < 0 { throw .inval }
    return UInt64(target)
}
