#if canImport(Glibc)
import Glibc
#endif
import CLibOSHost

/// A file or directory of a ``HostFileSystem``, named by its components below the mount root.
public final class HostInode: Inode, @unchecked Sendable {
    let fs: HostFileSystem
    let components: [String]

    init(fs: HostFileSystem, components: [String]) {
        self.fs = fs
        self.components = components
    }

    private var name: String { components.last ?? "." }

    /// Runs `body` with a descriptor of this inode's parent folder (the root for the root).
    private func withParent<T>(_ body: (Int32, String) throws(Errno) -> T) throws(Errno) -> T {
        let parent = try fs.openBeneath(components.dropLast(), flags: CLOISTER_HOST_O_PATH | O_DIRECTORY)
        defer { close(parent) }
        return try body(parent, name)
    }

    /// Runs `body` with a descriptor of this inode as a folder.
    private func withDirectory<T>(_ body: (Int32) throws(Errno) -> T) throws(Errno) -> T {
        let directory = try fs.openBeneath(components[...], flags: CLOISTER_HOST_O_PATH | O_DIRECTORY)
        defer { close(directory) }
        return try body(directory)
    }

    private func child(_ name: String) -> HostInode { HostInode(fs: fs, components: components + [name]) }

    public var device: UInt64 { fs.device }
    public var identity: InodeIdentity {
        InodeIdentity(device: fs.device, inode: (try? stat().inode) ?? 0)
    }

    public func stat() throws(Errno) -> FileStat {
        var st = Glibc.stat()
        if components.isEmpty {
            _ = try hostCall { fstat(fs.rootFD, &st) }
        } else {
            try withParent { (parent, name) throws(Errno) in
                _ = try hostCall { fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) }
            }
        }
        return fileStat(st, device: fs.device)
    }

    public func lookup(_ name: String) throws(Errno) -> any Inode {
        try withDirectory { (directory) throws(Errno) in
            var st = Glibc.stat()
            _ = try hostCall { fstatat(directory, name, &st, AT_SYMLINK_NOFOLLOW) }
        }
        return child(name)
    }

    public func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode {
        try fs.checkWritable()
        try withDirectory { (directory) throws(Errno) in
            // O_NONBLOCK: an existing FIFO of that name must not block the open.
            let flags = O_CREAT | O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | (exclusive ? O_EXCL : 0)
            let fd = try hostCall { openat(directory, name, flags, 0o644) }
            close(fd)
        }
        return child(name)
    }

    public func createDirectory(_ name: String) throws(Errno) {
        try fs.checkWritable()
        try withDirectory { (directory) throws(Errno) in _ = try hostCall { mkdirat(directory, name, 0o755) } }
    }

    public func createSymlink(_ name: String, target: String) throws(Errno) {
        try fs.checkWritable()
        try withDirectory { (directory) throws(Errno) in _ = try hostCall { symlinkat(target, directory, name) } }
    }

    public func link(_ inode: any Inode, as name: String) throws(Errno) {
        try fs.checkWritable()
        guard let source = inode as? HostInode, source.fs === fs, !source.components.isEmpty else { throw .xdev }
        try source.withParent { (sourceParent, sourceName) throws(Errno) in
            try withDirectory { (directory) throws(Errno) in
                _ = try hostCall { linkat(sourceParent, sourceName, directory, name, 0) }
            }
        }
    }

    public func unlinkFile(_ name: String) throws(Errno) {
        try fs.checkWritable()
        try withDirectory { (directory) throws(Errno) in _ = try hostCall { unlinkat(directory, name, 0) } }
    }

    public func removeDirectory(_ name: String) throws(Errno) {
        try fs.checkWritable()
        try withDirectory { (directory) throws(Errno) in _ = try hostCall { unlinkat(directory, name, AT_REMOVEDIR) } }
    }

    public func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno) {
        try fs.checkWritable()
        guard let target = directory as? HostInode, target.fs === fs else { throw .xdev }
        try withDirectory { (source) throws(Errno) in
            try target.withDirectory { (destination) throws(Errno) in
                _ = try hostCall { renameat(source, name, destination, newName) }
            }
        }
    }

    public func entries() throws(Errno) -> [DirectoryEntry] {
        let fd = try fs.openBeneath(components[...], flags: O_RDONLY | O_DIRECTORY)
        guard let stream = fdopendir(fd) else {
            let error = Errno(host: errno)
            close(fd)
            throw error
        }
        defer { closedir(stream) }
        let selfStat = try stat()
        let list = [
            DirectoryEntry(name: ".", inode: selfStat.inode, type: .directory),
            DirectoryEntry(name: "..", inode: selfStat.inode, type: .directory),
        ]
        var others: [DirectoryEntry] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            let type: FileType
            switch Int32(entry.pointee.d_type) {
            case Int32(DT_DIR): type = .directory
            case Int32(DT_REG): type = .regularFile
            case Int32(DT_LNK): type = .symbolicLink
            case Int32(DT_CHR): type = .characterDevice
            case Int32(DT_BLK): type = .blockDevice
            case Int32(DT_SOCK): type = .socketStream
            default: type = .unknown
            }
            others.append(DirectoryEntry(name: name, inode: UInt64(entry.pointee.d_ino), type: type))
        }
        return list + others.sorted { $0.name < $1.name }
    }

    public func readLink() throws(Errno) -> String {
        try withParent { (parent, name) throws(Errno) -> String in
            var buffer = [CChar](repeating: 0, count: 4097)
            let count = try hostCall { readlinkat(parent, name, &buffer, 4096) }
            return String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    public func open(_ mode: OpenMode) throws(Errno) -> any FileDescription {
        if mode.write || mode.truncate { try fs.checkWritable() }
        if try mode.opensDirectory(try stat().type) { return DirectoryDescription(inode: self) }
        var flags = mode.read && mode.write ? O_RDWR : (mode.write ? O_WRONLY : O_RDONLY)
        if mode.truncate && mode.write { flags |= O_TRUNC }
        if mode.append { flags |= O_APPEND }
        return HostFileDescription(fd: try openHostFile(flags: flags), inode: self, device: fs.device)
    }

    public func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) {
        try fs.checkWritable()
        let times = hostTimes(access: access, modification: modification)
        try withParent { (parent, name) throws(Errno) in
            _ = try hostCall { utimensat(parent, components.isEmpty ? "." : name, times, AT_SYMLINK_NOFOLLOW) }
        }
    }

    public func setSize(_ size: UInt64) throws(Errno) {
        try fs.checkWritable()
        let description = try open(OpenMode(read: false, write: true))
        defer { description.close() }
        try description.setSize(size)
    }

    /// Opens the host file itself (no link followed) with `flags`; the caller closes the fd.
    ///
    /// Only a regular file opens: a FIFO, socket or device node in the host folder is `EACCES`,
    /// as on a `nodev` mount. A FIFO would block the host thread in `open` or `read` past every
    /// kill and deadline, and a device node would hand the guest a host device. The open itself
    /// is `O_NONBLOCK` (a FIFO must not block it before it is refused), cleared once the
    /// descriptor is known to be a regular file.
    func openHostFile(flags: Int32) throws(Errno) -> Int32 {
        let refusal = Errno.acces.with(reason: "hostfs opens only regular files and folders")
        let fd: Int32
        do {
            fd = try withParent { (parent, name) throws(Errno) -> Int32 in
                try hostCall { openat(parent, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK) }
            }
        } catch where error == Errno(host: ENXIO) {
            throw refusal  // a FIFO opened for writing with no reader, a socket
        }
        var st = Glibc.stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            Glibc.close(fd)
            throw refusal
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        return fd
    }

    /// Replaces the file's bytes atomically: `write` fills a new file beside it, which is
    /// synced and renamed over the old one; on failure the old file is left as it was.
    func replaceContents(_ write: (Int32) throws(Errno) -> Void) throws(Errno) {
        let copy = HostInode(fs: fs, components: components.dropLast() + [HostInode.temporaryName(for: name)])
        try copy.writeNewFile(write)
        do throws(Errno) {
            try copy.moveOver(name)
        } catch {
            try? copy.removeFromParent()
            throw error
        }
    }

    /// The name of the file that replaces `name` while it is written (sefs hides these).
    static func temporaryName(for name: String) -> String { ".\(name).cloister-tmp" }

    static func isTemporaryName(_ name: String) -> Bool { name.hasPrefix(".") && name.hasSuffix(".cloister-tmp") }

    /// Creates this file anew (mode 0600, replacing a stale one), fills it with `write` and
    /// syncs it; on failure it is removed again.
    func writeNewFile(_ write: (Int32) throws(Errno) -> Void) throws(Errno) {
        try fs.checkWritable()
        try withParent { (parent, name) throws(Errno) in
            _ = unlinkat(parent, name, 0)
            let fd = try hostCall { openat(parent, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600) }
            do throws(Errno) {
                try write(fd)
                _ = try hostCall { fsync(fd) }
            } catch {
                Glibc.close(fd)
                _ = unlinkat(parent, name, 0)
                throw error
            }
            Glibc.close(fd)
        }
    }

    /// Renames this file onto its sibling `newName`, atomically replacing what is there.
    func moveOver(_ newName: String) throws(Errno) {
        try fs.checkWritable()
        try withParent { (parent, name) throws(Errno) in _ = try hostCall { renameat(parent, name, parent, newName) } }
    }

    /// Removes this file from its folder.
    func removeFromParent() throws(Errno) {
        try fs.checkWritable()
        try withParent { (parent, name) throws(Errno) in _ = try hostCall { unlinkat(parent, name, 0) } }
    }
}
