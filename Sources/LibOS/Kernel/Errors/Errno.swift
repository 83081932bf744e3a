/// A kernel error number, numbered as WASI preview1 numbers them.
///
/// Every failure of the LibOS — a syscall answered to a guest or a call of the entry API — is an
/// `Errno`. The entry API attaches a human `reason`; equality compares only the number.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    /// The WASI errno value.
    public let rawValue: UInt16
    /// A one-line explanation for people, empty for errors answered to guests.
    public let reason: String

    /// Creates an errno from its WASI number.
    public init(_ rawValue: UInt16, reason: String = "") {
        self.rawValue = rawValue
        self.reason = reason
    }

    /// The same error number with a reason attached.
    public func with(reason: String) -> Errno { Errno(rawValue, reason: reason) }

    public static func == (lhs: Errno, rhs: Errno) -> Bool { lhs.rawValue == rhs.rawValue }
    public func hash(into hasher: inout Hasher) { hasher.combine(rawValue) }

    /// The symbolic name, such as `EBADF`.
    public var name: String { Errno.names[Int(rawValue)] ?? "E\(rawValue)" }

    public var description: String { reason.isEmpty ? name : "\(name): \(reason)" }

    /// The host (Linux) errno with the same meaning, for the C ABI of the PAL.
    public var hostValue: Int32 { Errno.hostValues[Int(rawValue)] ?? 5 /* EIO */ }

    public static let success = Errno(0)
    public static let toobig = Errno(1)
    public static let acces = Errno(2)
    public static let addrinuse = Errno(3)
    public static let addrnotavail = Errno(4)
    public static let afnosupport = Errno(5)
    public static let again = Errno(6)
    public static let already = Errno(7)
    public static let badf = Errno(8)
    public static let busy = Errno(10)
    public static let child = Errno(12)
    public static let connrefused = Errno(14)
    public static let connreset = Errno(15)
    public static let destaddrreq = Errno(17)
    public static let exist = Errno(20)
    public static let fault = Errno(21)
    public static let fbig = Errno(22)
    public static let inprogress = Errno(26)
    public static let intr = Errno(27)
    public static let inval = Errno(28)
    public static let io = Errno(29)
    public static let isconn = Errno(30)
    public static let isdir = Errno(31)
    public static let loop = Errno(32)
    public static let mfile = Errno(33)
    public static let mlink = Errno(34)
    public static let msgsize = Errno(35)
    public static let nametoolong = Errno(37)
    public static let nodev = Errno(43)
    public static let noent = Errno(44)
    public static let noexec = Errno(45)
    public static let nomem = Errno(48)
    public static let noprotoopt = Errno(50)
    public static let nospc = Errno(51)
    public static let nosys = Errno(52)
    public static let notconn = Errno(53)
    public static let notdir = Errno(54)
    public static let notempty = Errno(55)
    public static let notsock = Errno(57)
    public static let notsup = Errno(58)
    public static let overflow = Errno(61)
    public static let perm = Errno(63)
    public static let pipe = Errno(64)
    public static let protonosupport = Errno(66)
    public static let prototype = Errno(67)
    public static let range = Errno(68)
    public static let rofs = Errno(69)
    public static let spipe = Errno(70)
    public static let srch = Errno(71)
    public static let timedout = Errno(73)
    public static let xdev = Errno(75)
    public static let notcapable = Errno(76)

    private static let names: [Int: String] = [
        0: "ESUCCESS", 1: "E2BIG", 2: "EACCES", 3: "EADDRINUSE", 4: "EADDRNOTAVAIL", 5: "EAFNOSUPPORT",
        6: "EAGAIN", 7: "EALREADY", 8: "EBADF", 9: "EBADMSG", 10: "EBUSY", 11: "ECANCELED", 12: "ECHILD",
        13: "ECONNABORTED", 14: "ECONNREFUSED", 15: "ECONNRESET", 16: "EDEADLK", 17: "EDESTADDRREQ",
        18: "EDOM", 19: "EDQUOT", 20: "EEXIST", 21: "EFAULT", 22: "EFBIG", 23: "EHOSTUNREACH", 24: "EIDRM",
        25: "EILSEQ", 26: "EINPROGRESS", 27: "EINTR", 28: "EINVAL", 29: "EIO", 30: "EISCONN", 31: "EISDIR",
        32: "ELOOP", 33: "EMFILE", 34: "EMLINK", 35: "EMSGSIZE", 36: "EMULTIHOP", 37: "ENAMETOOLONG",
        38: "ENETDOWN", 39: "ENETRESET", 40: "ENETUNREACH", 41: "ENFILE", 42: "ENOBUFS", 43: "ENODEV",
        44: "ENOENT", 45: "ENOEXEC", 46: "ENOLCK", 47: "ENOLINK", 48: "ENOMEM", 49: "ENOMSG",
        50: "ENOPROTOOPT", 51: "ENOSPC", 52: "ENOSYS", 53: "ENOTCONN", 54: "ENOTDIR", 55: "ENOTEMPTY",
        56: "ENOTRECOVERABLE", 57: "ENOTSOCK", 58: "ENOTSUP", 59: "ENOTTY", 60: "ENXIO", 61: "EOVERFLOW",
        62: "EOWNERDEAD", 63: "EPERM", 64: "EPIPE", 65: "EPROTO", 66: "EPROTONOSUPPORT", 67: "EPROTOTYPE",
        68: "ERANGE", 69: "EROFS", 70: "ESPIPE", 71: "ESRCH", 72: "ESTALE", 73: "ETIMEDOUT", 74: "ETXTBSY",
        75: "EXDEV", 76: "ENOTCAPABLE",
    ]

    private static let hostValues: [Int: Int32] = [
        0: 0, 1: 7, 2: 13, 3: 98, 4: 99, 5: 97, 6: 11, 7: 114, 8: 9, 9: 74, 10: 16, 11: 125, 12: 10,
        13: 103, 14: 111, 15: 104, 16: 35, 17: 89, 18: 33, 19: 122, 20: 17, 21: 14, 22: 27, 23: 113,
        24: 43, 25: 84, 26: 115, 27: 4, 28: 22, 29: 5, 30: 106, 31: 21, 32: 40, 33: 24, 34: 31, 35: 90,
        36: 72, 37: 36, 38: 100, 39: 102, 40: 101, 41: 23, 42: 105, 43: 19, 44: 2, 45: 8, 46: 37, 47: 67,
        48: 12, 49: 42, 50: 92, 51: 28, 52: 38, 53: 107, 54: 20, 55: 39, 56: 131, 57: 88, 58: 95, 59: 25,
        60: 6, 61: 75, 62: 130, 63: 1, 64: 32, 65: 71, 66: 93, 67: 91, 68: 34, 69: 30, 70: 29, 71: 3,
        72: 116, 73: 110, 74: 26, 75: 18, 76: 1,
    ]

    private static let fromHost: [Int32: UInt16] = {
        var map: [Int32: UInt16] = [:]
        for (wasi, host) in hostValues where map[host] == nil || wasi != 76 { map[host] = UInt16(wasi) }
        map[95] = 58  // EOPNOTSUPP == ENOTSUP on Linux
        return map
    }()

    /// Translates a host (Linux) errno into the WASI numbering.
    public init(host: Int32) {
        self.init(Errno.fromHost[host] ?? 29)
    }
}
