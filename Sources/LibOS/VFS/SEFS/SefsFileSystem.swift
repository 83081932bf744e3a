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
/// **Each file is bound to its path.** A file is sealed with its own key, derived from the mount's
/// key and its path below the mount root (``fileKey(for:)``), so a whole file copied or moved to
/// another name on the host does not authenticate there (`EIO`), and two files swapped both fail.
/// A guest's own rename reseals what it moves for the new path; hard links, which would give one
/// file two paths, are refused (`EPERM`). Putting back an older version of a file under its own
/// name (a rollback) is not detected.
///
/// The key is 16 bytes (`cloister-file-128`) or 32 bytes (`cloister-file-256`), from the
/// mount's `options.key_file`: hex (a `key: HEX` line, as `cloister keygen` prints, or hex
/// alone) or the raw bytes. Without a key file, the key is derived from the instance key for
/// the mount's target.
///
/// The plaintext of every open file is held in host memory and charged to the instance's
/// ``MemoryBudget``: opening a file larger than what is left is `ENOMEM`, growing one past it
/// `ENOSPC`.
public final class SefsFileSystem: @unchecked Sendable {
    let host: HostFileSystem
    let scheme: Scheme
    private let key: [UInt8]
    let budget: MemoryBudget
    /// Told about every file that fails authentication (the kernel logs it).
    let reportTamper: @Sendable (String) -> Void
    public private(set) var root: SefsInode!
    /// The plaintext of every open file, shared by all its descriptions, by the file's path below
    /// the mount root (the name a file is sealed for; renames move the entry). Keyed by path, not
    /// by host inode number: a number the host frees and gives to another file must never hand
    /// that file this one's plaintext. Guarded by `lock`.
    private var openFiles: [[String]: SefsOpenFile] = [:]
    private let lock = KernelLock()

    /// A `sefs` file system over `host`, keyed by `keyFile` or, when there is none, by a key
    /// derived for `target` from the instance key (see ``instanceKey(in:)``).
    public init(
        host: HostFileSystem, keyFile: String?, instanceDirectory: String, target: String, budget: MemoryBudget,
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
        self.budget = budget
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

    /// The key the file at `path` (its components below the mount root) is sealed with:
    /// HKDF-SHA256 of the mount's key with info `cloister/v1/sefs/path/<path>`, as long as the
    /// mount's key. It is what binds a file to its name.
    func fileKey(for path: [String]) -> [UInt8] {
        SefsFileSystem.fileKey(mountKey: key, path: path.joined(separator: "/"))
    }

    /// The key a file at `path` (relative to the mount's folder, components joined by `/`, no
    /// `.` or `..`) of a sefs mount keyed by `mountKey` is sealed with, for whoever prepares
    /// such files on the host: seal the plaintext in `cloister-file-128`/`-256` with this key.
    public static func fileKey(mountKey: [UInt8], path: String) -> [UInt8] {
        KeyDerivation.derive(from: mountKey, label: "sefs/path/" + path, size: mountKey.count)
    }

    // MARK: Sealing

    /// Opens `file` for reading without touching its access time (the guest's `stat` must not
    /// change it), falling back to a plain open where the host refuses `O_NOATIME`.
    private func openForReading(_ file: HostInode) throws(Errno) -> Int32 {
        do {
            return try file.openHostFile(flags: O_RDONLY | CLOISTER_HOST_O_NOATIME)
        } catch where error == .perm {
            return try file.openHostFile(flags: O_RDONLY)
        }
    }

    /// The plaintext of the host file open as `fd`, authenticated as the file at `path`; nil
    /// when it fails.
    private func authenticate(_ fd: Int32, as path: [String]) -> Result<[UInt8], any Error> {
        Result {
            let reader = try ProtectedFileReader(scheme: scheme, key: fileKey(for: path), input: HostFile(fd: fd))
            var plaintext: [UInt8] = []
            while let piece = try reader.read() { plaintext += piece }
            return plaintext
        }
    }

    /// The plaintext of `file`, authenticated for its path; `EIO` when it fails.
    ///
    /// When it fails and a resealed copy of it waits beside it (a rename that a crash cut short,
    /// see ``renameDirectory(_:in:to:in:)``), that copy is put in place if it authenticates.
    func decrypt(_ file: HostInode) throws(Errno) -> [UInt8] {
        let fd = try openForReading(file)
        let result = authenticate(fd, as: file.components)
        Glibc.close(fd)
        switch result {
        case .success(let plaintext):
            return plaintext
        case .failure(let error):
            if let plaintext = adoptResealedCopy(of: file) { return plaintext }
            reportTamper("sefs file \(file.components.joined(separator: "/")) failed authentication: \(error)")
            throw .io
        }
    }

    /// Finishes an interrupted reseal: puts `file`'s temporary copy in place if it authenticates.
    private func adoptResealedCopy(of file: HostInode) -> [UInt8]? {
        guard let name = file.components.last else { return nil }
        let copy = HostInode(fs: host, components: file.components.dropLast() + [HostInode.temporaryName(for: name)])
        guard let fd = try? copy.openHostFile(flags: O_RDONLY) else { return nil }
        let result = authenticate(fd, as: file.components)
        Glibc.close(fd)
        guard case .success(let plaintext) = result, (try? copy.moveOver(name)) != nil else { return nil }
        return plaintext
    }

    /// Writes `plaintext` sealed for `path` at offset 0 of `fd`, and cuts the file there.
    private func seal(_ plaintext: [UInt8], for path: [String], into fd: Int32) throws(Errno) {
        let output = PositionedOutput(fd: fd)
        do {
            let writer = try ProtectedFileWriter(scheme: scheme, key: fileKey(for: path), output: output)
            try plaintext.withUnsafeBytes { try writer.write($0) }
            _ = try writer.finish()
        } catch {
            throw (error as? Errno) ?? .io
        }
        _ = try hostCall { ftruncate(fd, off_t(output.position)) }
        _ = try hostCall { fsync(fd) }
    }

    /// Seals `plaintext` as the new contents of `file`, in place (the inode stays valid).
    func encrypt(_ plaintext: [UInt8], into file: HostInode) throws(Errno) {
        let fd = try file.openHostFile(flags: O_WRONLY)
        defer { Glibc.close(fd) }
        try seal(plaintext, for: file.components, into: fd)
    }

    // MARK: Open files

    /// The shared plaintext of `file`, opened (decrypted) on first use. Its plaintext is charged
    /// to the budget before it is decrypted: `ENOMEM` when it does not fit.
    func acquire(_ file: HostInode, truncate: Bool) throws(Errno) -> SefsOpenFile {
        let path = file.components
        return try lock.withLock { () throws(Errno) -> SefsOpenFile in
            if let open = openFiles[path] {
                open.openCount += 1
                if truncate { open.lock.withLock { open.truncate() } }
                return open
            }
            let size = truncate ? 0 : try plaintextSize(of: file, storedSize: try file.stat().size)
            try budget.charge(size, or: .nomem, for: "the \(ByteSize.format(size)) plaintext of sefs file \(file.components.joined(separator: "/"))")
            let contents: [UInt8]
            do throws(Errno) {
                contents = truncate ? [] : try decrypt(file)
            } catch {
                budget.release(size)
                throw error
            }
            let open = SefsOpenFile(host: file, contents: contents, budget: budget, charged: size)
            open.dirty = truncate
            openFiles[path] = open
            return open
        }
    }

    /// Drops one description of `open`; the last one seals what changed and gives its plaintext
    /// back to the budget.
    func release(_ open: SefsOpenFile) {
        let last = lock.withLock { () -> Bool in
            open.openCount -= 1
            if open.openCount == 0, let path = open.lock.withLock({ open.isDetached ? nil : open.host.components }), openFiles[path] === open {
                openFiles[path] = nil
            }
            return open.openCount == 0
        }
        guard last else { return }
        try? sync(open)
        open.lock.withLock { open.discard() }
    }

    /// Seals `open` into its file when it changed.
    func sync(_ open: SefsOpenFile) throws(Errno) {
        try open.lock.withLock { () throws(Errno) in
            guard open.dirty, !open.isDetached else { return }
            try encrypt(open.contents, into: open.host)
            open.dirty = false
        }
    }

    /// The plaintext size of an open file, if it is open.
    func openSize(_ file: HostInode) -> UInt64? {
        guard let open = lock.withLock({ openFiles[file.components] }) else { return nil }
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

    /// Forgets the open state of `file` before its name goes or is replaced, so that a later
    /// close cannot seal stale plaintext over whatever takes the name.
    func detach(_ file: HostInode) {
        lock.withLock {
            guard let open = openFiles.removeValue(forKey: file.components) else { return }
            open.lock.withLock { open.detach() }
        }
    }

    // MARK: Renames

    /// Moves `name` in `source` to `newName` in `destination`, resealing every file it moves for
    /// its new path. A file moves atomically: its new sealed copy is written beside the target
    /// and renamed over it before the old name goes.
    func rename(_ name: String, in source: HostInode, to newName: String, in destination: HostInode) throws(Errno) {
        let moving = HostInode(fs: host, components: source.components + [name])
        let target = HostInode(fs: host, components: destination.components + [newName])
        if moving.components == target.components { return }
        let type = try moving.stat().type
        if let existing = try? target.stat().type {
            switch (type, existing) {
            case (.directory, .directory): break
            case (.directory, _): throw .notdir
            case (_, .directory): throw .isdir
            default: break
            }
        }
        switch type {
        case .regularFile:
            detach(target)
            try lock.withLock { () throws(Errno) in
                try reseal(moving, as: target)
                try moving.removeFromParent()
            }
        case .directory:
            try renameDirectory(name, in: source, to: newName, in: destination)
        default:
            // Symbolic links and anything else hold no sealed contents.
            try source.rename(name, to: destination, as: newName)
        }
    }

    /// Writes `file`'s plaintext sealed for `target`'s path over `target` (atomically, through a
    /// temporary beside it), and moves its open state there. With `lock` held.
    private func reseal(_ file: HostInode, as target: HostInode) throws(Errno) {
        let open = openFiles[file.components]
        let plaintext: [UInt8]
        if let open { plaintext = open.lock.withLock { open.contents } } else { plaintext = try transientPlaintext(of: file) }
        defer { if open == nil { budget.release(UInt64(plaintext.count)) } }
        try target.replaceContents { (fd) throws(Errno) in try seal(plaintext, for: target.components, into: fd) }
        if let open {
            openFiles[file.components] = nil
            open.lock.withLock {
                open.host = target
                open.dirty = false
            }
            openFiles[target.components] = open
        }
    }

    /// The plaintext of a file that is not open, charged to the budget until the caller releases it.
    private func transientPlaintext(of file: HostInode) throws(Errno) -> [UInt8] {
        let size = try plaintextSize(of: file, storedSize: try file.stat().size)
        try budget.charge(size, or: .nomem, for: "resealing sefs file \(file.components.joined(separator: "/"))")
        do throws(Errno) {
            return try decrypt(file)
        } catch {
            budget.release(size)
            throw error
        }
    }

    /// Renames a directory: every regular file beneath it is first resealed for its new path into a
    /// temporary beside it, then the directory is renamed, then each temporary replaces its file.
    /// A crash between the two last steps leaves files that fail under their new path next to
    /// their resealed copies; ``decrypt(_:)`` puts a copy in place when it finds one.
    private func renameDirectory(_ name: String, in source: HostInode, to newName: String, in destination: HostInode) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            let from = source.components + [name]
            let to = destination.components + [newName]
            let files = try regularFiles(beneath: HostInode(fs: host, components: from))
            var staged: [[String]] = []
            do throws(Errno) {
                for file in files {
                    let relative = Array(file.components.dropFirst(from.count))
                    let open = openFiles[file.components]
                    let plaintext: [UInt8]
                    if let open { plaintext = open.lock.withLock { open.contents } } else { plaintext = try transientPlaintext(of: file) }
                    defer { if open == nil { budget.release(UInt64(plaintext.count)) } }
                    let copy = HostInode(fs: host, components: file.components.dropLast() + [HostInode.temporaryName(for: relative.last!)])
                    try copy.writeNewFile { (fd) throws(Errno) in try seal(plaintext, for: to + relative, into: fd) }
                    staged.append(relative)
                }
                try source.rename(name, to: destination, as: newName)
            } catch {
                for relative in staged {
                    try? HostInode(fs: host, components: from + relative.dropLast() + [HostInode.temporaryName(for: relative.last!)]).removeFromParent()
                }
                throw error
            }
            for relative in staged {
                let copy = HostInode(fs: host, components: to + relative.dropLast() + [HostInode.temporaryName(for: relative.last!)])
                try copy.moveOver(relative.last!)
            }
            // Open files beneath now live under the new path, as new inodes.
            for (path, open) in openFiles where Array(path.prefix(from.count)) == from {
                let moved = HostInode(fs: host, components: to + path.dropFirst(from.count))
                openFiles[path] = nil
                open.lock.withLock {
                    open.host = moved
                    open.dirty = false
                }
                openFiles[moved.components] = open
            }
        }
    }

    /// Every regular file beneath `directory`, at any depth (links are not followed).
    private func regularFiles(beneath directory: HostInode) throws(Errno) -> [HostInode] {
        var found: [HostInode] = []
        var pending = [directory]
        while let folder = pending.popLast() {
            for entry in try folder.entries() where entry.name != "." && entry.name != ".." && !HostInode.isTemporaryName(entry.name) {
                let child = HostInode(fs: host, components: folder.components + [entry.name])
                switch try child.stat().type {
                case .directory: pending.append(child)
                case .regularFile: found.append(child)
                default: break
                }
            }
        }
        return found
    }
}

/// The plaintext of one open `sefs` file, shared by its descriptions, and where it lives now.
final class SefsOpenFile: @unchecked Sendable {
    let lock = KernelLock()
    /// The host file, moved by renames. Guarded by `lock`.
    var host: HostInode
    /// Guarded by `lock`.
    private(set) var contents: [UInt8]
    var dirty = false
    /// Descriptions open; guarded by the file system's lock.
    var openCount = 1
    private let budget: MemoryBudget
    /// Bytes of the budget held for `contents`.
    private var charged: UInt64

    init(host: HostInode, contents: [UInt8], budget: MemoryBudget, charged: UInt64) {
        self.host = host
        self.contents = contents
        self.budget = budget
        self.charged = charged
    }

    /// Grows or cuts the plaintext to `size` bytes, charging growth (`ENOSPC` past the budget).
    /// With `lock` held.
    func resize(to size: Int) throws(Errno) {
        if size > contents.count {
            try budget.charge(UInt64(size - contents.count), or: .nospc, for: "sefs file data")
            charged += UInt64(size - contents.count)
            contents.append(contentsOf: repeatElement(0, count: size - contents.count))
        } else if size < contents.count {
            giveBack(UInt64(contents.count - size))
            contents.removeSubrange(size...)
        }
        dirty = true
    }

    /// Empties the plaintext (an open with `O_TRUNC`). With `lock` held.
    func truncate() {
        giveBack(UInt64(contents.count))
        contents = []
        dirty = true
    }

    /// Drops the plaintext and gives back all it held (the last close, after sealing).
    /// With `lock` held.
    func discard() {
        contents = []
        giveBack(charged)
    }

    /// Stops sealing into `host`: its name now holds another file, or none (unlinked, or
    /// replaced by a rename). What is written goes on living in memory until the last close.
    /// With `lock` held.
    func detach() {
        if detachedStat == nil { detachedStat = try? host.stat() }
        dirty = false
        isDetached = true
    }

    /// Whether the file lost its name (``detach()``); its last known attributes then.
    private(set) var isDetached = false
    private(set) var detachedStat: FileStat?

    private func giveBack(_ bytes: UInt64) {
        let amount = min(bytes, charged)
        charged -= amount
        budget.release(amount)
    }

    /// Copies `bytes` in at `offset`, which lies within the plaintext. With `lock` held.
    func overwrite(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard !bytes.isEmpty else { return }
        contents.withUnsafeMutableBytes { ($0.baseAddress! + offset).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        dirty = true
    }
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
