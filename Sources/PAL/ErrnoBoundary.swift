import LibOS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The C boundary: runs one PAL call and turns its outcome into the C convention.
enum ErrnoBoundary {
    /// Runs `body`; returns 0, or sets `errno` to the host value of the thrown ``Errno`` and
    /// returns -1. On success `errno` is what it was before the call, whatever host calls the
    /// LibOS made meanwhile.
    static func call(_ body: () throws(Errno) -> Void) -> Int32 {
        let saved = errno
        do {
            try body()
            errno = saved
            return 0
        } catch {
            errno = error.hostValue
            return -1
        }
    }
}
