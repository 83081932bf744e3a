#if canImport(Glibc)
import Glibc
#endif

/// A file or folder of a ``SefsFileSystem``: the host inode, with contents sealed.
public final class SefsInode: Inode, @unchecked Sendable {
    let fs: SefsFileSystem
    let host: HostInode

    init(fs: SefsFileSystem, host: HostInode) {
        self.fs = fs
        self.host = host
    }

    private func wrap(_ inode: any Inode) throws(Errno) -> SefsInode {
        guard let host = inode as? HostInode else { throw .io }
        return SefsInode(fs: fs, host: host)
    }

    private func unwrap(_ inode: any Inode) throws(Errno) -> HostInode {
        guard let sefs = inode as? SefsInode, sefs.fs === fs else { throw .xdev }
        return sefs.host
    }

    public var device: UInt64 { host.device }
    public var identity: InodeIdentity { host.identity }

    public func stat() throws(Errno) -> FileStat {
        var stat = try host.stat()
        if stat.type == .regularFile {
            if let open = fs.openSize(host) {
                stat.size = open
            } else {
                stat.size = try fs.plaintextSize(of: host, storedSize: stat.size)
            }
        }
        return stat
    }

    public func lookup(_ name: String) throws(Errno) -> any Inode { try wrap(try host.lookup(name)) }

    public func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode {
        // An existing file keeps its contents: a file emptied behind the guest's back must
        // read as tampered, never be resealed as a new empty file.
        if !exclusive, let existing = try? host.lookup(name) { return try wrap(existing) }
        let created: any Inode
        do {
            created = try host.createFile(name, exclusive: true)
        } catch where error == .exist && !exclusive {
            return try wrap(try host.lookup(name))
        }
        let file = try wrap(created)
        do {
            try fs.encrypt([], into: file.host)
        } catch {
            try? host.unlinkFile(name)
            throw error
        }
        return file
    }

    public func createDirectory(_ name: String) throws(Errno) { try host.createDirectory(name) }
    public func createSymlink(_ name: String, target: String) throws(Errno) { try host.createSymlink(name, target: target) }

    /// Refused: each file is bound to one path, so a second name could never read it.
    public func link(_ inode: any Inode, as name: String) throws(Errno) {
        _ = try unwrap(inode)
        throw Errno.perm.with(reason: "sefs binds each file to its path: no hard links")
    }

    public func unlinkFile(_ name: String) throws(Errno) {
        let file = HostInode(fs: fs.host, components: host.components + [name])
        if try file.stat().type != .directory { fs.detach(file) }
        try host.unlinkFile(name)
    }

    public func removeDirectory(_ name: String) throws(Errno) { try host.removeDirectory(name) }

    /// Moves `name`, resealing every file it moves for its new path (``SefsFileSystem``).
    public func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno) {
        try fs.rename(name, in: host, to: newName, in: try unwrap(directory))
    }

    public func entries() throws(Errno) -> [DirectoryEntry] {
        // Replacement files being written are not the guest's.
        try host.entries().filter { !HostInode.isTemporaryName($0.name) }
    }

    public func readLink() throws(Errno) -> String { try host.readLink() }

    public func open(_ mode: OpenMode) throws(Errno) -> any FileDescription {
        if try mode.opensDirectory(try host.stat().type) { return DirectoryDescription(inode: self) }
        return try SefsFileDescription(file: self, mode: mode)
    }

    public func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) {
        try host.setTimes(access: access, modification: modification)
    }

    public func setSize(_ size: UInt64) throws(Errno) {
        let description = try open(OpenMode(read: true, write: true))
        defer { description.close() }
        try description.setSize(size)
    }
}
