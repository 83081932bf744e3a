#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `write(2)`, named apart from the protocol requirement.
private func systemWrite(_ fd: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, bytes, count)
}

/// Where a protected-file reader gets its bytes: positioned reads, so that cloister-file chunks
/// can be read at random.
public protocol RandomAccessInput: AnyObject {
    /// The current size in bytes.
    func size() throws -> UInt64
    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (0 at the end).
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Where a protected-file writer puts its bytes, in order.
public protocol SequentialOutput: AnyObject {
    /// Writes all of `bytes`.
    func write(_ bytes: UnsafeRawBufferPointer) throws
}

extension RandomAccessInput {
    /// Reads exactly `count` bytes at `offset`, or fewer only at the end of the input.
    func readFully(at offset: UInt64, count: Int) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = try out.withUnsafeMutableBytes { try read(at: offset + UInt64(done), into: UnsafeMutableRawBufferPointer(rebasing: $0[done...])) }
            if n == 0 { break }
            done += n
        }
        if done < count { out.removeSubrange(done...) }
        return out
    }
}

extension SequentialOutput {
    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }
}

/// A host file descriptor as a protected-file input or output (pread for input, write for output).
public final class HostFile: RandomAccessInput, SequentialOutput {
    /// The descriptor.
    public let fd: Int32
    private let path: String
    private let ownsDescriptor: Bool

    /// Wraps an open descriptor; `closeOnDeinit` closes it when this object goes away.
    public init(fd: Int32, path: String = "file", closeOnDeinit: Bool = false) {
        self.fd = fd
        self.path = path
        self.ownsDescriptor = closeOnDeinit
    }

    /// Opens `path` for reading.
    public static func openForReading(_ path: String) throws -> HostFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ProtectedFileError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        return HostFile(fd: fd, path: path, closeOnDeinit: true)
    }

    /// Creates `path` for writing (it must not exist), mode 0600.
    public static func create(_ path: String) throws -> HostFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProtectedFileError.io("cannot create \(path): \(String(cString: strerror(errno)))") }
        return HostFile(fd: fd, path: path, closeOnDeinit: true)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    public func size() throws -> UInt64 {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ProtectedFileError.io("cannot stat \(path): \(String(cString: strerror(errno)))") }
        return UInt64(info.st_size)
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno == EINTR { continue }
            throw ProtectedFileError.io("cannot read \(path): \(String(cString: strerror(errno)))")
        }
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let n = systemWrite(fd, bytes.baseAddress! + done, bytes.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                throw ProtectedFileError.io("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            done += n
        }
    }

    /// Flushes the file to stable storage.
    public func sync() throws {
        guard fsync(fd) == 0 else { throw ProtectedFileError.io("cannot sync \(path): \(String(cString: strerror(errno)))") }
    }
}

/// An in-memory byte buffer as input or output (tests, small data).
public final class MemoryFile: RandomAccessInput, SequentialOutput {
    /// The bytes.
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8] = []) { self.bytes = bytes }

    public func size() throws -> UInt64 { UInt64(bytes.count) }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard offset < UInt64(bytes.count) else { return 0 }
        let start = Int(offset)
        let n = min(buffer.count, bytes.count - start)
        bytes.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + n])) }
        return n
    }

    public func write(_ data: UnsafeRawBufferPointer) throws {
        bytes.append(contentsOf: data)
    }
}
