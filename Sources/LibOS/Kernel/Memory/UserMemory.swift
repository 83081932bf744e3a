/// The kernel's view of one guest's linear memory.
///
/// Syscalls see guest memory only through this protocol, never through an engine's types, so a
/// second engine can run the same kernel. Every access is bounds-checked against the memory's
/// current size before any byte is touched: an out-of-range address or length is `EFAULT`.
public protocol UserMemory: AnyObject {
    /// The current size of the memory in bytes.
    var byteCount: Int { get }
    /// Calls `body` with the host bytes backing `[address, address + count)`.
    /// The caller has checked the range; implementations may assume it is in bounds.
    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T
}

extension UserMemory {
    /// Checks that `[address, address + count)` lies inside the memory.
    @inline(__always)
    func check(_ address: UInt32, _ count: UInt32) throws(Errno) {
        if UInt64(address) + UInt64(count) > UInt64(byteCount) { throw .fault }
    }

    /// Calls `body` with the checked host bytes of a guest range.
    @inline(__always)
    func withBytes<T>(at address: UInt32, count: UInt32, _ body: (UnsafeMutableRawBufferPointer) throws(Errno) -> T) throws(Errno) -> T {
        try check(address, count)
        do {
            return try withUncheckedBytes(at: address, count: Int(count)) { buffer in try body(buffer) }
        } catch let error as Errno {
            throw error
        } catch {
            throw .io
        }
    }

    func loadU32(_ address: UInt32) throws(Errno) -> UInt32 {
        try withBytes(at: address, count: 4) { UInt32(littleEndian: $0.loadUnaligned(as: UInt32.self)) }
    }

    func loadU64(_ address: UInt32) throws(Errno) -> UInt64 {
        try withBytes(at: address, count: 8) { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    func loadU16(_ address: UInt32) throws(Errno) -> UInt16 {
        try withBytes(at: address, count: 2) { UInt16(littleEndian: $0.loadUnaligned(as: UInt16.self)) }
    }

    func loadU8(_ address: UInt32) throws(Errno) -> UInt8 {
        try withBytes(at: address, count: 1) { $0[0] }
    }

    func storeU32(_ value: UInt32, at address: UInt32) throws(Errno) {
        try withBytes(at: address, count: 4) { $0.storeBytes(of: value.littleEndian, as: UInt32.self) }
    }

    func storeU64(_ value: UInt64, at address: UInt32) throws(Errno) {
        try withBytes(at: address, count: 8) { $0.storeBytes(of: value.littleEndian, as: UInt64.self) }
    }

    /// Copies guest bytes out.
    func readBytes(_ address: UInt32, _ count: UInt32) throws(Errno) -> [UInt8] {
        try withBytes(at: address, count: count) { Array($0.bindMemory(to: UInt8.self)) }
    }

    /// Copies bytes into the guest.
    func writeBytes<C: Collection>(_ bytes: C, at address: UInt32) throws(Errno) where C.Element == UInt8 {
        try withBytes(at: address, count: UInt32(clamping: bytes.count)) { buffer in
            _ = buffer.initializeMemory(as: UInt8.self, from: bytes)
        }
    }

    /// Reads a guest string given as pointer and length (WASI paths are not NUL-terminated).
    /// Paths longer than `maximumPathLength` bytes are `ENAMETOOLONG`.
    func readString(_ address: UInt32, _ length: UInt32) throws(Errno) -> String {
        try check(address, length)
        if length > maximumPathLength { throw .nametoolong }
        let bytes = try readBytes(address, length)
        if bytes.contains(0) { throw .ilseq }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .ilseq }
        return text
    }

    /// Reads a NUL-terminated guest string of at most `limit` bytes (`E2BIG` beyond, `EFAULT`
    /// when memory ends first).
    func readCString(_ address: UInt32, limit: Int = 128 * 1024) throws(Errno) -> String {
        let available = byteCount - Int(address)
        guard Int(address) < byteCount, available > 0 else { throw .fault }
        let scan = min(available, limit + 1)
        let bytes = try withBytes(at: address, count: UInt32(scan)) { buffer -> [UInt8]? in
            guard let end = buffer.firstIndex(of: 0) else { return nil }
            return Array(buffer[..<end])
        }
        guard let bytes else { throw scan > limit ? Errno.toobig : Errno.fault }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .ilseq }
        return text
    }

    /// Reads an array of `count` guest pointers to NUL-terminated strings (argv, envp).
    func readCStringArray(_ address: UInt32, count: UInt32) throws(Errno) -> [String] {
        if count > 4096 { throw Errno.toobig.with(reason: "more than 4096 strings") }
        try check(address, count &* 4)
        var strings: [String] = []
        var total = 0
        for index in 0..<count {
            let string = try readCString(try loadU32(address + index * 4))
            total += string.utf8.count + 1
            if total > 2 * 1024 * 1024 { throw Errno.toobig.with(reason: "argument and environment strings over 2 MiB") }
            strings.append(string)
        }
        return strings
    }

    /// Reads a WASI iovec array: `count` pairs of (buf, len) at `address`, each range checked.
    func readIOVecs(_ address: UInt32, _ count: UInt32) throws(Errno) -> [(base: UInt32, length: UInt32)] {
        if count > 1024 { throw .inval }
        try check(address, count &* 8)
        var vectors: [(base: UInt32, length: UInt32)] = []
        vectors.reserveCapacity(Int(count))
        for index in 0..<count {
            let base = try loadU32(address + index * 8)
            let length = try loadU32(address + index * 8 + 4)
            try check(base, length)
            vectors.append((base, length))
        }
        return vectors
    }
}

extension Errno {
    static let ilseq = Errno(25)
}

/// The longest path a guest may pass, in bytes (Linux's PATH_MAX).
let maximumPathLength: UInt32 = 4096
