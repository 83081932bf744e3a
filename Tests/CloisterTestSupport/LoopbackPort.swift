import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for tests.
public enum LoopbackPort {
    /// A loopback port nothing listens on: bound to port 0, read back, then released. (Another
    /// process could take it in between; on a test machine that is unlikely, and a test that then
    /// sees a connection where it expected none fails loudly rather than passing wrongly.)
    public static func closed() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EMFILE) }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EADDRNOTAVAIL) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
