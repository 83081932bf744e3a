import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The (key, IV) pairs a user's `cloister encrypt` has encrypted under with an aes-gcm scheme, so
/// that it refuses to encrypt a second file under the same pair.
///
/// The aes-gcm schemes are Teaclave's format: the IV is fixed by the caller and not stored with
/// the ciphertext, so the format cannot carry a fresh nonce per encryption (cloister-file does:
/// a random file nonce and a random nonce per chunk). Two files under one (key, IV) pair share
/// their keystream: XORing the ciphertexts gives the XOR of the plaintexts. `cloister keygen`
/// prints a fresh IV with each key; this journal makes sure each is used once.
///
/// One line per pair: the hex SHA-256 of a label, the key and the IV (the keys are random, so the
/// hash reveals nothing of them). The file is created 0600 and locked (`flock`) while it is read
/// and appended to. It sees the encryptions of this user on this machine only; the platform keeps
/// its own record of every pair it has seen (docs/security.md).
public struct KeyIVJournal: Sendable {
    /// The journal's file.
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// `$XDG_CONFIG_HOME/cloister/aes-gcm-pairs`, else `~/.config/cloister/aes-gcm-pairs` (beside
    /// the session of `cloister login`).
    public static var defaultPath: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/cloister/aes-gcm-pairs"
    }

    /// The line recorded for a pair.
    static func fingerprint(key: [UInt8], iv: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: Array("cloister/v1/aes-gcm-pair".utf8) + key + iv))
    }

    /// Records the pair; `reusedKeyAndIV` if it was recorded before (nothing is changed then).
    public func claim(key: [UInt8], iv: [UInt8]) throws(ProtectedFileError) {
        let line = Self.fingerprint(key: key, iv: iv)
        let folder = (path as NSString).deletingLastPathComponent
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io("cannot open the IV journal \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        guard flock(fd, LOCK_EX) == 0 else { throw .io("cannot lock the IV journal \(path)") }
        var contents = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset: off_t = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            guard count > 0 else { break }
            contents += buffer[0..<count]
            offset += off_t(count)
        }
        if String(decoding: contents, as: UTF8.self).split(separator: "\n").contains(where: { $0 == line }) {
            throw .reusedKeyAndIV(path)
        }
        let record = Array((line + "\n").utf8)
        guard record.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == record.count, fsync(fd) == 0 else {
            throw .io("cannot write the IV journal \(path)")
        }
    }
}
