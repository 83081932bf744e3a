#if canImport(Glibc)
import Glibc
#endif

/// Host iovecs laid directly over a guest's buffers: what a send or receive hands to one host
/// call (`sendmsg`/`recvmsg`), or to an AF_UNIX socket's byte queue, with no staging copy.
///
/// ``overGuest(_:in:_:)`` checks every guest buffer against the memory before it builds the
/// array (`EFAULT` for any one outside it, so nothing moves when one is bad), and the pointers
/// live only for the call's `body`: the calling guest thread is inside the syscall, so its
/// memory neither moves nor shrinks meanwhile (a shared memory only grows, in place).
struct IOVectors {
    /// The remaining buffers; ``advance(by:)`` consumes from the front.
    private(set) var vectors: UnsafeMutableBufferPointer<iovec>
    /// Bytes in all remaining buffers.
    private(set) var totalLength: Int

    private init(_ vectors: UnsafeMutableBufferPointer<iovec>) {
        self.vectors = vectors
        self.totalLength = vectors.reduce(0) { $0 + $1.iov_len }
    }

    /// The most buffers one call takes (Linux's `UIO_MAXIOV`).
    static let maximumCount = 1024

    /// Calls `body` with one host buffer.
    static func single<T>(_ buffer: UnsafeMutableRawBufferPointer, _ body: (IOVectors) throws(Errno) -> T) throws(Errno) -> T {
        var vector = iovec(iov_base: buffer.baseAddress, iov_len: buffer.count)
        return try withUnsafeMutablePointer(to: &vector) { (pointer) throws(Errno) -> T in
            try body(IOVectors(UnsafeMutableBufferPointer(start: pointer, count: 1)))
        }
    }

    /// Checks every guest buffer of `list` against `memory` (`EFAULT`), then calls `body` with
    /// host iovecs over them. The total is capped at ``WASIPreview1/maximumTransfer`` bytes
    /// (later buffers are shortened), as Linux caps one transfer at `MAX_RW_COUNT`.
    static func overGuest<T>(
        _ list: [(base: UInt32, length: UInt32)], in memory: any UserMemory, _ body: (IOVectors) throws(Errno) -> T
    ) throws(Errno) -> T {
        if list.count > maximumCount { throw Errno.msgsize.with(reason: "more than \(maximumCount) iovecs") }
        for vector in list { try memory.check(vector.base, vector.length) }
        let size = memory.byteCount
        let vectors = UnsafeMutableBufferPointer<iovec>.allocate(capacity: max(list.count, 1))
        defer { vectors.deallocate() }
        var result: Result<T, Errno>!
        memory.withUncheckedBytes(at: 0, count: size) { whole in
            var total = 0
            for (index, vector) in list.enumerated() {
                let length = min(Int(vector.length), WASIPreview1.maximumTransfer - total)
                total += length
                vectors[index] = iovec(iov_base: length == 0 ? nil : whole.baseAddress! + Int(vector.base), iov_len: length)
            }
            do throws(Errno) {
                result = .success(try body(IOVectors(UnsafeMutableBufferPointer(rebasing: vectors[0..<list.count]))))
            } catch {
                result = .failure(error)
            }
        }
        return try result.get()
    }

    /// Drops the first `count` bytes (those a partial transfer moved).
    mutating func advance(by count: Int) {
        var remaining = min(count, totalLength)
        totalLength -= remaining
        var first = 0
        while remaining > 0 && first < vectors.count {
            let taken = min(remaining, vectors[first].iov_len)
            vectors[first].iov_base = vectors[first].iov_base.map { $0 + taken }
            vectors[first].iov_len -= taken
            remaining -= taken
            if vectors[first].iov_len == 0 { first += 1 }
        }
        while first < vectors.count && vectors[first].iov_len == 0 { first += 1 }
        vectors = UnsafeMutableBufferPointer(rebasing: vectors[first...])
    }

    /// The buffers as raw buffers (for the kernel's own byte queues).
    var buffers: [UnsafeMutableRawBufferPointer] {
        vectors.map { UnsafeMutableRawBufferPointer(start: $0.iov_base, count: $0.iov_len) }
    }
}
