import CLibOSHost
import Foundation
import ProtectedFiles

/// An encrypted host folder (`sefs` mounts): every file is stored in the `cloister-file` format
/// (docs/file-format.md), so the host sees only ciphertext, and a file changed behind the
/// guest's back reads as `EIO` (and is logged).
///
/// The folder structure, names and symbolic links are those of a ``HostFileSystem`` (same
/// confinement), kept in plaintext: the kernel's path walker resolves one name at a time on
/// the host, and encrypting names would need a directory format of its own. Contents are
/// authenticated per chunk, and each chunk is bound to its file, its index and whether it is
/// the last, so flipped bits, truncation, reordering, chunks moved between files and appended
/// data are all refused.
///
/// The key is 16 bytes (`cloister-file-128`) or 32 bytes (`cloister-file-256`), from the
/// mount's `options.key_file`: hex (a `key: HEX` line, as `cloister keygen` prints, or hex
/// alone) or the raw bytes. Without a key file, the key is derived from the instance key for
/// the mount's target.
public final class SefsFileSystem: @unchecked Sendable {
    let host: HostFileSystem
    let scheme: Scheme
    let key: [UInt8]
    /// Told about every file that fails authentication (the kernel logs it).
    let reportTamper: @Sendable (String) -> Void
    public private(set) var root: SefsInode!
    /// The plaintext of every open file, shared by all its descriptions; guarded by `lock`.
    private var openFiles: [InodeIdentity: SefsOpenFile] = [:]
    private let lock = KernelLock()

    /// A `sefs` file system over `host`, keyed by `keyFile` or, when there is none, by a key
    /// derived for `target` from the instance key (see ``instanceKey(in:)``).
    public init(
        host: HostFileSystem, keyFile: String?, instanceDirectory: String, target: String,
        reportTamper: @escaping @Sendable (String) -> Void
    ) throws(Errno) {
        let key: [UInt8]
        if let keyFile {
            guard let data = FileManager.default.contents(atPath: keyFile) else {
                throw Errno.noent.with(reason: "cannot read sefs key file \(keyFile)")
            }
            guard let parsed = SefsFileSystem.parseKey([UInt8](data)) else {
                throw Errno.inval.with(reason: "sefs key file \(keyFile) holds no 16- or 32-byte key")
            }
            key = parsed
        } else {
            key = KeyDerivation.derive(from: try SefsFileSystem.instanceKey(in: instanceDirectory), label: "sefs\(target)", size: 32)
        }
        self.host = host
        self.key = key
        self.scheme = key.count == 16 ? .cloisterFile128 : .cloisterFile256
        self.reportTamper = reportTamper
        self.root = SefsInode(fs: self, host: host.root)
    }

    /// The instance key: 32 random bytes in `<instance>/.cloister/instance.key` (mode 0600),
    /// made on first use. Every `sefs` mount without a key file derives its own key from it.
    static func instanceKey(in instanceDirectory: String) throws(Errno) -> [UInt8] {
        let folder = instanceDirectory + "/.cloister"
        let path = folder + "/instance.key"
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw Errno.inval.with(reason: "\(path) is not a 32-byte key") }
            return [UInt8](data)
        }
        var key = [UInt8](repeating: 0, count: 32)
        key.withUnsafeMutableBytes { fillRandom($0) }
        mkdir(folder, 0o700)
        let fd = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if fd < 0 {
            // Another instance made it first: use theirs.
            if errno == EEXIST, let data = FileManager.default.contents(atPath: path), data.count == 32 { return [UInt8](data) }
            throw Errno(host: errno).with(reason: "cannot create \(path)")
        }
        defer { Glibc.close(fd) }
        let written = key.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, 32) }
        guard written == 32, fsync(fd) == 0 else { throw Errno.io.with(reason: "cannot write \(path)") }
        return key
    }

    /// A key as hex (optionally after `key:`) or as 16 or 32 raw bytes.
    static func parseKey(_ bytes: [UInt8]) -> [UInt8]? {
        if let text = String(bytes: bytes, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                var candidate = line.trimmingCharacters(in: .whitespaces)
                if candidate.hasPrefix("key:") { candidate = String(candidate.dropFirst(4)).trimmingCharacters(in: .whitespaces) }
                if let key = try? Hex.decode(candidate), key.count == 16 || key.count == 32 { return key }
            }
        }
        return bytes.count == 16 || bytes.count == 32 ? bytes : nil
    }

    /// Opens `file` for reading without touching its access time (the guest's `stat` must not
    /// change it), falling back to a plain open where the host refuses `O_NOATIME`.
    private func openForReading(_ file: HostInode) throws(Errno) -> Int32 {
        do {
            return try file.openHostFile(flags: O_RDONLY | CLOISTER_HOST_O_NOATIME)
        } catch where error == .perm {
            return try file.openHostFile(flags: O_RDONLY)
        }
    }

    /// The plaintext of `file`, authenticated; `EIO` when it fails.
    func decrypt(_ file: HostInode) throws(Errno) -> [UInt8] {
        let fd = try openForReading(file)
        defer { Glibc.close(fd) }
        do {
            let reader = try ProtectedFileReader(scheme: scheme, key: key, input: HostFile(fd: fd))
            var plaintext: [UInt8] = []
            while let piece = try reader.read() { plaintext += piece }
            return plaintext
        } catch {
            reportTamper("sefs file \(file.components.joined(separator: "/")) failed authentication: \(error)")
            throw .io
        }
    }

    /// Seals `plaintext` as the new contents of `file`, in place (the inode, its hard links and
    /// its other names stay valid).
    func encrypt(_ plaintext: [UInt8], into file: HostInode) throws(Errno) {
        let fd = try file.openHostFile(flags: O_WRONLY)
        defer { Glibc.close(fd) }
        let output = PositionedOutput(fd: fd)
        do {
            let writer = try ProtectedFileWriter(scheme: scheme, key: key, output: output)
            try plaintext.withUnsafeBytes { try writer.write($0) }
            _ = try writer.finish()
        } catch {
            throw (error as? Errno) ?? .io
        }
        _ = try hostCall { ftruncate(fd, off_t(output.position)) }
        _ = try hostCall { fsync(fd) }
    }

    /// The shared plaintext of `file`, opened (decrypted) on first use.
    func acquire(_ file: HostInode, truncate: Bool) throws(Errno) -> SefsOpenFile {
        let identity = file.identity
        return try lock.withLock { () throws(Errno) -> SefsOpenFile in
            if let open = openFiles[identity] {
                open.openCount += 1
                if truncate { open.lock.withLock { open.contents = []; open.dirty = true } }
                return open
            }
            let open = SefsOpenFile(contents: truncate ? [] : try decrypt(file))
            open.dirty = truncate
            openFiles[identity] = open
            return open
        }
    }

    /// Drops one description of `file`; the last one seals what changed.
    func release(_ open: SefsOpenFile, file: HostInode) {
        let identity = file.identity
        let last = lock.withLock { () -> Bool in
            open.openCount -= 1
            if open.openCount == 0 { openFiles[identity] = nil }
            return open.openCount == 0
        }
        if last { try? sync(open, file: file) }
    }

    /// Seals `open` into `file` when it changed.
    func sync(_ open: SefsOpenFile, file: HostInode) throws(Errno) {
        try open.lock.withLock { () throws(Errno) in
            guard open.dirty else { return }
            try encrypt(open.contents, into: file)
            open.dirty = false
        }
    }

    /// The plaintext size of an open file, if it is open.
    func openSize(_ file: HostInode) -> UInt64? {
        let identity = file.identity
        guard let open = lock.withLock({ openFiles[identity] }) else { return nil }
        return open.lock.withLock { UInt64(open.contents.count) }
    }

    /// The plaintext size of `file`, from its header and stored size.
    func plaintextSize(of file: HostInode, storedSize: UInt64) throws(Errno) -> UInt64 {
        let fd = try openForReading(file)
        defer { Glibc.close(fd) }
        var bytes = [UInt8](repeating: 0, count: ChunkedFileHeader.size)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        do {
            guard count == ChunkedFileHeader.size else { throw ProtectedFileError.truncated("no header") }
            let header = try ChunkedFileHeader(parsing: bytes, expected: scheme)
            return try ChunkedFileLayout(header: header, fileSize: storedSize).plaintextSize
        } catch {
            reportTamper("sefs file \(file.components.joined(separator: "/")) has no valid header: \(error)")
            throw .io
        }
    }
}

/// The plaintext of one open `sefs` file, shared by its descriptions.
final class SefsOpenFile: @unchecked Sendable {
    let lock = KernelLock()
    var contents: [UInt8]
    var dirty = false
    var openCount = 1
    init(contents: [UInt8]) { self.contents = contents }
}

/// Writes a sealed file from offset 0 of a host descriptor, counting the bytes.
private final class PositionedOutput: SequentialOutput {
    let fd: Int32
    private(set) var position: UInt64 = 0
    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let count = try hostCall { pwrite(fd, bytes.baseAddress! + done, bytes.count - done, off_t(position) + off_t(done)) }
            done += count
        }
        position += UInt64(bytes.count)
    }

    func sync() throws { _ = try hostCall { fsync(fd) } }
}
