#if canImport(Glibc)
import Glibc
#endif

/// An in-memory file system (`ramfs` mounts). One lock guards the whole tree.
///
/// Everything it holds lives in host memory, so everything is charged to the instance's
/// ``MemoryBudget`` (`user_space_size`) before it is allocated: file data, symbolic link
/// targets, a fixed ``nodeCost`` per node and an ``entryCost(_:)`` per directory entry. Past the
/// budget, writes, size changes and new names answer `ENOSPC`. What a node holds is given back
/// when the node goes (its last link and last open descriptor), so the count cannot drift.
public final class RamFileSystem: @unchecked Sendable {
    let lock = KernelLock()
    let device: UInt64
    let budget: MemoryBudget
    private var nextInode: UInt64 = 1
    /// The root directory.
    public private(set) var root: RamNode!

    public init(device: UInt64, budget: MemoryBudget) {
        self.device = device
        self.budget = budget
        self.root = RamNode(fs: self, kind: .directory(RamDirectory()), parent: nil)
        self.root.parent = self.root
        // The root's own cost is charged too; a budget too small for it is already full.
        try? self.root.charge(RamFileSystem.nodeCost)
    }

    func allocateInode() -> UInt64 {
        nextInode += 1
        return nextInode
    }

    /// What a node costs in host memory beyond its data: the object, its directory or its
    /// data array, and the bookkeeping around it. Measured: 300,000 empty directories took 217
    /// bytes each with their entries, 300,000 empty files 170; charged: 256 + an entry's cost.
    static let nodeCost: UInt64 = 256

    /// What a directory entry costs: its name and its slot in the directory's table.
    static func entryCost(_ name: String) -> UInt64 { 64 + UInt64(name.utf8.count) }

    /// The largest file a ramfs holds (1 GiB); beyond it writes answer `EFBIG`.
    static let maximumFileSize: UInt64 = 1 << 30
}

/// The entries of a ramfs directory. A class, so an entry is added or removed in place: copying
/// the table for every change made creating n entries cost O(n²).
final class RamDirectory {
    var children: [String: RamNode] = [:]
    /// The names in order, kept until the next change (`fd_readdir` lists them again and again).
    private var sortedNames: [String]?

    var names: [String] {
        if let sortedNames { return sortedNames }
        let names = children.keys.sorted()
        sortedNames = names
        return names
    }

    subscript(name: String) -> RamNode? {
        get { children[name] }
        set {
            children[name] = newValue
            sortedNames = nil
        }
    }
}

/// A node of a ``RamFileSystem``: directory, regular file or symbolic link.
public final class RamNode: Inode, @unchecked Sendable {
    enum Kind {
        case directory(RamDirectory)
        case file([UInt8])
        case symlink(String)
    }

    unowned let fs: RamFileSystem
    /// Held strongly: the node gives its bytes back in `deinit`, when the file system itself may
    /// already be going.
    private let budget: MemoryBudget
    /// Bytes this node holds against the budget: its ``RamFileSystem/nodeCost``, its data or
    /// link target, and (a directory) its entries. Guarded by `fs.lock`.
    private var charged: UInt64 = 0
    var kind: Kind
    weak var parent: RamNode?
    let number: UInt64
    var linkCount: UInt64 = 1
    var accessTime: UInt64
    var modificationTime: UInt64
    var changeTime: UInt64

    init(fs: RamFileSystem, kind: Kind, parent: RamNode?) {
        self.fs = fs
        self.budget = fs.budget
        self.kind = kind
        self.parent = parent
        self.number = fs.allocateInode()
        let now = nowNanoseconds()
        (accessTime, modificationTime, changeTime) = (now, now, now)
        if case .directory = kind { linkCount = 2 }
    }

    deinit { budget.release(charged) }

    /// Charges `bytes` to this node (`ENOSPC` past the instance's budget). With the lock held.
    func charge(_ bytes: UInt64) throws(Errno) {
        try budget.charge(bytes, or: .nospc, for: "ramfs data")
        charged += bytes
    }

    /// Gives back `bytes` this node held. With the lock held.
    func uncharge(_ bytes: UInt64) {
        let amount = min(bytes, charged)
        charged -= amount
        budget.release(amount)
    }

    /// Accounts this file's data growing or shrinking from `old` to `new` bytes. With the lock held.
    func chargeData(from old: Int, to new: Int) throws(Errno) {
        if new > old { try charge(UInt64(new - old)) } else { uncharge(UInt64(old - new)) }
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
        case .directory(let directory): return UInt64(directory.children.count)
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

    private func directory() throws(Errno) -> RamDirectory {
        guard case .directory(let directory) = kind else { throw .notdir }
        return directory
    }

    private func touch() {
        modificationTime = nowNanoseconds()
        changeTime = modificationTime
    }

    public func lookup(_ name: String) throws(Errno) -> any Inode {
        try fs.lock.withLock { () throws(Errno) -> RamNode in
            guard let child = try directory()[name] else { throw .noent }
            return child
        }
    }

    /// Adds the entry `name` for `node`, charging its cost. With the lock held.
    private func addEntry(_ name: String, _ node: RamNode, in directory: RamDirectory) throws(Errno) {
        try charge(RamFileSystem.entryCost(name))
        directory[name] = node
        touch()
    }

    /// Removes the entry `name`, giving its cost back. With the lock held.
    private func removeEntry(_ name: String, in directory: RamDirectory) {
        directory[name] = nil
        uncharge(RamFileSystem.entryCost(name))
        touch()
    }

    private func insertNew(_ name: String, _ kind: Kind) throws(Errno) -> RamNode {
        let directory = try directory()
        if directory[name] != nil { throw .exist }
        let node = RamNode(fs: fs, kind: kind, parent: self)
        var cost = RamFileSystem.nodeCost
        if case .symlink(let target) = kind { cost += UInt64(target.utf8.count) }
        try node.charge(cost)
        try addEntry(name, node, in: directory)
        if case .directory = kind { linkCount += 1 }
        return node
    }

    public func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode {
        try fs.lock.withLock { () throws(Errno) -> RamNode in
            if let existing = try directory()[name] {
                if exclusive { throw .exist }
                if case .directory = existing.kind { throw .isdir }
                return existing
            }
            return try insertNew(name, .file([]))
        }
    }

    public func createDirectory(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in _ = try insertNew(name, .directory(RamDirectory())) }
    }

    public func createSymlink(_ name: String, target: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in _ = try insertNew(name, .symlink(target)) }
    }

    public func link(_ inode: any Inode, as name: String) throws(Errno) {
        guard let node = inode as? RamNode, node.fs === fs else { throw .xdev }
        try fs.lock.withLock { () throws(Errno) in
            if case .directory = node.kind { throw .perm }
            let directory = try directory()
            if directory[name] != nil { throw .exist }
            try addEntry(name, node, in: directory)
            node.linkCount += 1
            node.changeTime = nowNanoseconds()
        }
    }

    public func unlinkFile(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in
            let directory = try directory()
            guard let child = directory[name] else { throw .noent }
            if case .directory = child.kind { throw .isdir }
            removeEntry(name, in: directory)
            child.linkCount -= 1
            child.changeTime = nowNanoseconds()
        }
    }

    public func removeDirectory(_ name: String) throws(Errno) {
        try fs.lock.withLock { () throws(Errno) in
            let directory = try directory()
            guard let child = directory[name] else { throw .noent }
            guard case .directory(let grandChildren) = child.kind else { throw .notdir }
            if !grandChildren.children.isEmpty { throw .notempty }
            if child.isMountPoint { throw .busy }
            removeEntry(name, in: directory)
            child.linkCount = 0
            linkCount -= 1
        }
    }

    /// Set on directories that another file system is mounted on.
    var isMountPoint = false

    public func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno) {
        guard let target = directory as? RamNode, target.fs === fs else { throw .xdev }
        try fs.lock.withLock { () throws(Errno) in
            let source = try self.directory()
            guard let node = source[name] else { throw .noent }
            let destination = try target.directory()
            if node.isMountPoint { throw .busy }
            if case .directory = node.kind {
                // A directory may not move beneath itself.
                var ancestor: RamNode? = target
                while let current = ancestor, current !== current.parent {
                    if current === node { throw .inval }
                    ancestor = current.parent
                }
            }
            if let existing = destination[newName] {
                if existing === node { return }
                switch (node.kind, existing.kind) {
                case (.directory, .directory(let grandChildren)):
                    if !grandChildren.children.isEmpty { throw .notempty }
                    if existing.isMountPoint { throw .busy }
                    target.linkCount -= 1
                case (.directory, _): throw .notdir
                case (_, .directory): throw .isdir
                default: break
                }
                existing.linkCount = existing.kind.isDirectory || existing.linkCount == 0 ? 0 : existing.linkCount - 1
                destination[newName] = node  // the entry is reused: its cost stays charged
                target.touch()
            } else {
                try target.addEntry(newName, node, in: destination)
            }
            removeEntry(name, in: source)
            if case .directory = node.kind, target !== self {
                linkCount -= 1
                target.linkCount += 1
            }
            node.parent = target
        }
    }

    public func entries() throws(Errno) -> [DirectoryEntry] {
        try fs.lock.withLock { () throws(Errno) -> [DirectoryEntry] in
            let directory = try directory()
            var list = [
                DirectoryEntry(name: ".", inode: number, type: .directory),
                DirectoryEntry(name: "..", inode: parent?.number ?? number, type: .directory),
            ]
            let names = directory.names
            list.reserveCapacity(names.count + 2)
            for name in names {
                guard let child = directory[name] else { continue }
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
            case .file(let bytes):
                if mode.directory { throw .notdir }
                if mode.truncate && mode.write {
                    uncharge(UInt64(bytes.count))
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

    func setSizeLocked(_ size: UInt64) throws(Errno) {
        guard case .file(var bytes) = kind else { throw kind.isDirectory ? .isdir : .inval }
        guard size <= RamFileSystem.maximumFileSize else { throw .fbig }
        try chargeData(from: bytes.count, to: Int(size))
        kind = .file([])
        if Int(size) < bytes.count {
            bytes.removeSubrange(Int(size)...)
        } else {
            bytes.append(contentsOf: repeatElement(0, count: Int(size) - bytes.count))
        }
        kind = .file(bytes)
        touch()
    }
}

extension RamNode.Kind {
    var isDirectory: Bool {
        if case .directory = self { return true }
        return false
    }
}
