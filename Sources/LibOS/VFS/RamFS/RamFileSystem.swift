#if canImport(Glibc)
import Glibc
#endif

/// An in-memory file system (`ramfs` mounts). One lock guards the whole tree.
///
/// File data is held in host memory, so a ramfs has a capacity: writes and size changes that
/// would take it beyond answer `ENOSPC`.
public final class RamFileSystem: @unchecked Sendable {
    let lock = KernelLock()
    let device: UInt64
    private var nextInode: UInt64 = 1
    /// The most bytes of file data the file system holds.
    public let capacity: UInt64
    /// Bytes of file data held now; guarded by `lock`.
    private(set) var usedBytes: UInt64 = 0
    /// The root directory.
    public private(set) var root: RamNode!

    public init(device: UInt64, capacity: UInt64) {
        self.device = device
        self.capacity = capacity
        self.root = RamNode(fs: self, kind: .directory([:]), parent: nil)
        self.root.parent = self.root
    }

    /// Accounts a file growing from `old` to `new` bytes; `ENOSPC` past the capacity. Call with `lock` held.
    func charge(from old: Int, to new: Int) throws(Errno) {
        if new > old {
            let growth = UInt64(new - old)
            if usedBytes + growth > capacity { throw .nospc }
            usedBytes += growth
        } else {
            usedBytes -= min(usedBytes, UInt64(old - new))
        }
    }

    func allocateInode() -> UInt64 {
        nextInode += 1
        return nextInode
    }
}

/// A node of a ``RamFileSystem``: directory, regular file or symbolic link.
public final class RamNode: Inode, @unchecked Sendable {
    enum Kind {
        case directory([String: RamNode])
        case file([UInt8])
        case symlink(String)
    }

    unowned let fs: RamFileSystem
    var kind: Kind
    weak var parent: RamNode?
    let number: UInt64
    var linkCount: UInt64 = 1
    var accessTime: UInt64
    var modificationTime: UInt64
    var changeTime: UInt64

    init(fs: RamFileSystem, kind: Kind, parent: RamNode?) {
        self.fs = fs
        self.kind = kind
        self.parent = parent
        self.number = fs.allocateInode()
        let now = nowNanoseconds()
        (accessTime, modificationTime, changeTime) = (now, now, now)
        if case .directory = kind { linkCount = 2 }
    }

    public var device: UInt64 { fs.device }
    public var identity: InodeIdentity { InodeIdentity(device: fs.device, inode: number) }

    private var fileType: FileType {
        switch kind {
        case .directory: return .directory
        case .file: return .regularFile
        case .symlink: return .symbolicLink
        }
    }

    private var size: UInt64 {
        switch kind {
        case .directory(let children): return UInt64(children.count)
        case .file(let bytes): return UInt64(bytes.count)
        case .symlink(let target): return UInt64(target.utf8.count)
        }
    }

    func statLocked() -> FileStat {
        FileStat(
            device: fs.device, inode: number, type: fileType, linkCount: linkCount, size: size,
            accessTime: accessTime, modificationTime: modificationTime, changeTime: changeTime)
    }

    public func stat() throws(Errno) -> FileStat { fs.lock.withLock { statLocked() } }

    private func children() throws(Errno) -> [String: RamNode] {
        guard case .directory(let children) = kind else { throw .notdir }
        return children
    }

    private func setChildren(_ children: [String: RamNode]) {
        kind = .directory(children)
        modificationTime = nowNanoseconds()
        changeTime = modificationTime
    }

    public func lookup(_ name: String) throws(Errno) -> any Inode {
        try fs.lock.withLock { () throws(Errno) -> RamNode in
            guard let child = try children()[name] else { throw .noent }
            return child
        }
    }

    private func insertNew(_ name: String, _ kind: Kind) throws(Errno) -> RamNode {
        var children = try children()
        if children[name] != nil { throw .exist }
        let node = RamNode(fs: fs, kind: kind, parent: self)
        children[name] = node
        if case .directory = kind { linkCount += 1 }
        setChildren(children)
        return node
    }

    public func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode {
        try fs.lock.withLock { () throws(Errno) -> RamNode in
            if let existing = try children()[name] {
                if exclusive { throw .exist }
                if case .directory = existing.kind { throw .isdir }
                return existing
            }
            return try insertNew(name, .file([]))
        }
    }

    public func createDirectory(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in _ = try insertNew(name, .directory([:])) }
    }

    public func createSymlink(_ name: String, target: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in _ = try insertNew(name, .symlink(target)) }
    }

    public func link(_ inode: any Inode, as name: String) throws(Errno) {
        guard let node = inode as? RamNode, node.fs === fs else { throw .xdev }
        try fs.lock.withLock { () throws(Errno) in
            if case .directory = node.kind { throw .perm }
            var children = try children()
            if children[name] != nil { throw .exist }
            children[name] = node
            node.linkCount += 1
            node.changeTime = nowNanoseconds()
            setChildren(children)
        }
    }

    public func unlinkFile(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in
            var children = try children()
            guard let child = children[name] else { throw .noent }
            if case .directory = child.kind { throw .isdir }
            children[name] = nil
            child.linkCount -= 1
            child.releaseIfUnlinked()
            setChildren(children)
        }
    }

    public func removeDirectory(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in
            var children = try children()
            guard let child = children[name] else { throw .noent }
            guard case .directory(let grandChildren) = child.kind else { throw .notdir }
            if !grandChildren.isEmpty { throw .notempty }
            if child.isMountPoint { throw .busy }
            children[name] = nil
            linkCount -= 1
            setChildren(children)
        }
    }

    /// Set on directories that another file system is mounted on.
    var isMountPoint = false

    public func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno) {
        guard let target = directory as? RamNode, target.fs === fs else { throw .xdev }
        try fs.lock.withLock { () throws(Errno) in
            guard let node = try children()[name] else { throw .noent }
            var targetChildren = try target.children()
            if node.isMountPoint { throw .busy }
            if case .directory = node.kind {
                // A directory may not move beneath itself.
                var ancestor: RamNode? = target
                while let current = ancestor, current !== current.parent {
                    if current === node { throw .inval }
                    ancestor = current.parent
                }
            }
            if let existing = targetChildren[newName] {
                if existing === node { return }
                switch (node.kind, existing.kind) {
                case (.directory, .directory(let grandChildren)):
                    if !grandChildren.isEmpty { throw .notempty }
                    if existing.isMountPoint { throw .busy }
                case (.directory, _): throw .notdir
                case (_, .directory): throw .isdir
                default: break
                }
                existing.linkCount -= 1
                existing.releaseIfUnlinked()
            }
            var sourceChildren = try children()
            sourceChildren[name] = nil
            setChildren(sourceChildren)
            targetChildren = try target.children()
            targetChildren[newName] = node
            target.setChildren(targetChildren)
            if case .directory = node.kind, target !== self {
                linkCount -= 1
                target.linkCount += 1
            }
            node.parent = target
        }
    }

    public func entries() throws(Errno) -> [DirectoryEntry] {
        try fs.lock.withLock { () throws(Errno) -> [DirectoryEntry] in
            let children = try children()
            var list = [
                DirectoryEntry(name: ".", inode: number, type: .directory),
                DirectoryEntry(name: "..", inode: parent?.number ?? number, type: .directory),
            ]
            for (name, child) in children.sorted(by: { $0.key < $1.key }) {
                list.append(DirectoryEntry(name: name, inode: child.number, type: child.fileType))
            }
            return list
        }
    }

    public func readLink() throws(Errno) -> String {
        try fs.lock.withLock { () throws(Errno) -> String in
            guard case .symlink(let target) = kind else { throw .inval }
            return target
        }
    }

    public func open(_ mode: OpenMode) throws(Errno) -> any FileDescription {
        try fs.lock.withLock { () throws(Errno) -> any FileDescription in
            switch kind {
            case .directory:
                if mode.write { throw .isdir }
                return DirectoryDescription(inode: self)
            case .symlink:
                throw .loop
            case .file:
                if mode.directory { throw .notdir }
                if mode.truncate && mode.write, case .file(let bytes) = kind {
                    try? fs.charge(from: bytes.count, to: 0)
                    kind = .file([])
                    modificationTime = nowNanoseconds()
                }
                return RamFileDescription(node: self, mode: mode)
            }
        }
    }

    public func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) {
        fs.lock.withLock {
            let now = nowNanoseconds()
            switch access {
            case .keep: break
            case .now: accessTime = now
            case .set(let value): accessTime = value
            }
            switch modification {
            case .keep: break
            case .now: modificationTime = now
            case .set(let value): modificationTime = value
            }
            changeTime = now
        }
    }

    public func setSize(_ size: UInt64) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in try setSizeLocked(size) }
    }

    /// Frees the data of a file whose last link is gone. Call with the lock held.
    func releaseIfUnlinked() {
        guard linkCount == 0, case .file(let bytes) = kind else { return }
        try? fs.charge(from: bytes.count, to: 0)
        kind = .file([])
    }

    func setSizeLocked(_ size: UInt64) throws(Errno) {
        guard case .file(var bytes) = kind else { throw kind.isDirectory ? .isdir : .inval }
        guard size <= RamFileSystem.maximumFileSize else { throw .fbig }
        try fs.charge(from: bytes.count, to: Int(size))
        kind = .file([])
        if Int(size) < bytes.count {
            bytes.removeSubrange(Int(size)...)
        } else {
            bytes.append(contentsOf: repeatElement(0, count: Int(size) - bytes.count))
        }
        kind = .file(bytes)
        modificationTime = nowNanoseconds()
        changeTime = modificationTime
    }
}

extension RamNode.Kind {
    var isDirectory: Bool {
        if case .directory = self { return true }
        return false
    }
}

extension RamFileSystem {
    /// The largest file a ramfs holds (1 GiB); beyond it writes answer `EFBIG`.
    static let maximumFileSize: UInt64 = 1 << 30
}
