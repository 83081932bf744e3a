/// A file, directory, symbolic link or device inside one mounted file system.
///
/// Inodes never resolve paths themselves: the kernel's ``PathWalker`` walks one component at a
/// time with ``lookup(_:)`` and interprets symbolic links in the guest's namespace, which is what
/// keeps every resolution beneath its mount. Operations that do not apply to an inode's type
/// answer the errno a POSIX kernel would (`ENOTDIR`, `EISDIR`, `EINVAL`).
public protocol Inode: AnyObject, Sendable {
    /// The device number of the file system the inode lives in.
    var device: UInt64 { get }
    /// The identity of this inode: the file system's device number and the inode number.
    var identity: InodeIdentity { get }
    /// The attributes, without following a symbolic link.
    func stat() throws(Errno) -> FileStat

    /// The child called `name`, not following it if it is a symbolic link.
    func lookup(_ name: String) throws(Errno) -> any Inode
    /// Creates (or, unless `exclusive`, opens) the regular file `name`.
    func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode
    func createDirectory(_ name: String) throws(Errno)
    func createSymlink(_ name: String, target: String) throws(Errno)
    /// Adds a hard link `name` to `inode`, which lives in the same file system.
    func link(_ inode: any Inode, as name: String) throws(Errno)
    func unlinkFile(_ name: String) throws(Errno)
    func removeDirectory(_ name: String) throws(Errno)
    /// Moves `name` to `newName` inside `directory` (same file system, else `EXDEV`).
    func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno)
    /// The entries, `.` and `..` first.
    func entries() throws(Errno) -> [DirectoryEntry]

    func readLink() throws(Errno) -> String
    func open(_ mode: OpenMode) throws(Errno) -> any FileDescription
    func setTimes(access: TimeChange, modification: TimeChange) throws(Errno)
    func setSize(_ size: UInt64) throws(Errno)
}

/// Identifies an inode across the whole VFS.
public struct InodeIdentity: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
}

/// How a file is opened.
public struct OpenMode: Sendable {
    public var read: Bool
    public var write: Bool
    public var truncate: Bool = false
    public var append: Bool = false
    public var directory: Bool = false
}

extension OpenMode {
    /// Checks this mode against a file of `type`: `true` when it opens a directory (read-only),
    /// `false` for a file; `EISDIR` (writing a directory), `ELOOP` (a symbolic link) or
    /// `ENOTDIR` (a file where a directory was required) otherwise.
    func opensDirectory(_ type: FileType) throws(Errno) -> Bool {
        switch type {
        case .directory:
            if write { throw .isdir }
            return true
        case .symbolicLink:
            throw .loop
        default:
            if directory { throw .notdir }
            return false
        }
    }
}

extension Inode {
    var type: FileType { (try? stat().type) ?? .unknown }
}
