#if canImport(Glibc)
import Glibc
#endif
@testable import LibOS

/// A guest memory for the syscall fuzzer: a host buffer between two inaccessible guard pages.
///
/// The kernel promises to check every guest range before it asks for the bytes
/// (``UserMemory/withUncheckedBytes(at:count:_:)``). This memory holds it to that promise twice:
/// an unchecked range traps at once (as WasmKit's own precondition would kill the host), and a
/// kernel that wrote past a range it had checked would hit a guard page (SIGSEGV). The accessible
/// bytes end flush against the trailing guard page, so even a one-byte overrun faults.
final class GuardedMemory: UserMemory, @unchecked Sendable {
    let byteCount: Int
    private let mapping: UnsafeMutableRawPointer
    private let mappingSize: Int
    private let base: UnsafeMutableRawPointer

    init(byteCount: Int) {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let rounded = (byteCount + page - 1) / page * page
        mappingSize = rounded + 2 * page
        guard let mapped = mmap(nil, mappingSize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), mapped != MAP_FAILED else {
            fatalError("fuzzer: cannot map \(mappingSize) bytes")
        }
        mapping = mapped
        if rounded > 0 { precondition(mprotect(mapping + page, rounded, PROT_READ | PROT_WRITE) == 0) }
        base = mapping + page + (rounded - byteCount)
        self.byteCount = byteCount
    }

    deinit { munmap(mapping, mappingSize) }

    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        precondition(count >= 0 && Int(address) + count <= byteCount, "the kernel asked for unchecked guest bytes [\(address), +\(count)) of \(byteCount)")
        return try body(UnsafeMutableRawBufferPointer(start: base + Int(address), count: count))
    }

    /// Writes `bytes` at `address`, dropping what falls outside the memory (for the fuzzer's own
    /// set-up of structures, which may deliberately straddle the end).
    func plant(_ bytes: [UInt8], at address: UInt32) {
        let start = Int(address)
        guard start < byteCount else { return }
        let count = min(bytes.count, byteCount - start)
        bytes.withUnsafeBytes { (base + start).copyMemory(from: $0.baseAddress!, byteCount: count) }
    }

    /// Fills the memory with random bytes.
    func scramble(_ random: inout FuzzRandom) {
        var offset = 0
        while offset + 8 <= byteCount {
            (base + offset).storeBytes(of: random.next(), as: UInt64.self)
            offset += 8
        }
        while offset < byteCount {
            (base + offset).storeBytes(of: UInt8(truncatingIfNeeded: random.next()), as: UInt8.self)
            offset += 1
        }
    }
}
