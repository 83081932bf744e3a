extension WASIPreview1 {
    /// WASI `oflags`.
    struct OpenFlags: OptionSet {
        let rawValue: UInt32
        static let create = OpenFlags(rawValue: 1 << 0)
        static let directory = OpenFlags(rawValue: 1 << 1)
        static let exclusive = OpenFlags(rawValue: 1 << 2)
        static let truncate = OpenFlags(rawValue: 1 << 3)
    }

    /// Reads the guest path argument pair and the base directory it is relative to.
    private static func base(_ c: SyscallContext, fd: UInt32, requiring rights: Rights) throws(Errno) -> (any Inode, FileTable.Entry) {
        let entry = try c.files.get(fd)
        guard entry.description.fileType == .directory, let inode = entry.description.inode else { throw .notdir }
        if !entry.rightsBase.isSuperset(of: rights) { throw .notcapable }
        return (inode, entry)
    }

    static func pathCreateDirectory(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(1), a.u32(2))
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathCreateDirectory)
        let (parent, name, _) = try c.walker.resolveParent(from: directory, path)
        try parent.createDirectory(name)
    }

    static func pathFilestatGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(2), a.u32(3))
        try c.memory.check(a.u32(4), WASILayout.filestatSize)
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathFilestatGet)
        let inode = try c.walker.resolve(from: directory, path, followFinal: a.u32(1) & 1 != 0)
        try WASILayout.store(try inode.stat(), at: a.u32(4), in: c.memory)
    }

    static func pathFilestatSetTimes(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(2), a.u32(3))
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathFilestatSetTimes)
        let (access, modification) = try WASILayout.timeChanges(access: a[4], modification: a[5], flags: a.u32(6))
        let inode = try c.walker.resolve(from: directory, path, followFinal: a.u32(1) & 1 != 0)
        try inode.setTimes(access: access, modification: modification)
    }

    static func pathLink(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let oldPath = try c.memory.readString(a.u32(2), a.u32(3))
        let newPath = try c.memory.readString(a.u32(5), a.u32(6))
        let (oldDirectory, _) = try base(c, fd: a.u32(0), requiring: .pathLinkSource)
        let (newDirectory, _) = try base(c, fd: a.u32(4), requiring: .pathLinkTarget)
        let source = try c.walker.resolve(from: oldDirectory, oldPath, followFinal: a.u32(1) & 1 != 0)
        if try source.stat().type == .directory { throw .perm }
        let (parent, name, mustBeDirectory) = try c.walker.resolveParent(from: newDirectory, newPath)
        if mustBeDirectory { throw .noent }
        if source.device != parent.device { throw .xdev }
        try parent.link(source, as: name)
    }

    static func pathOpen(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(2), a.u32(3))
        let resultPointer = a.u32(8)
        try c.memory.check(resultPointer, 4)
        let flags = OpenFlags(rawValue: a.u32(4))
        if flags.rawValue & ~0xf != 0 { throw .inval }
        let fdFlags = FDFlags(rawValue: UInt16(truncatingIfNeeded: a.u32(7)))
        if a.u32(7) > 0xffff || !FDFlags.all.isSuperset(of: fdFlags) { throw .inval }
        let directory = try c.files.get(a.u32(0))
        let entry = try open(
            path, beneath: directory, in: c.files, walker: c.walker, flags: flags, base: Rights(rawValue: a[5]),
            inheriting: Rights(rawValue: a[6]), fdFlags: fdFlags, followFinal: a.u32(1) & 1 != 0)
        let fd: UInt32
        do {
            fd = try c.files.insert(entry)
        } catch {
            entry.file.release()
            throw error
        }
        try c.memory.storeU32(fd, at: resultPointer)
    }

    /// Opens `path` beneath the open directory `directory` of `files`, as `path_open` does: the
    /// directory needs `path_open` (and `path_create_file` to create, `path_filestat_set_size` to
    /// truncate); the new descriptor's rights are the requested ones within what `directory`
    /// hands down (its inheriting rights) and what the file's type allows. `/dev/stdin`,
    /// `/dev/stdout` and `/dev/stderr` give a new reference to descriptor 0, 1 or 2 of `files`.
    /// The entry is returned, not inserted. Spawn's `OPEN` file action opens through here too.
    static func open(
        _ path: String, beneath directory: FileTable.Entry, in files: FileTable, walker: PathWalker, flags: OpenFlags,
        base requestedBase: Rights, inheriting requestedInheriting: Rights, fdFlags: FDFlags, followFinal follow: Bool
    ) throws(Errno) -> FileTable.Entry {
        var needed: Rights = .pathOpen
        if flags.contains(.create) { needed.insert(.pathCreateFile) }
        if flags.contains(.truncate) { needed.insert(.pathFilestatSetSize) }
        guard directory.description.fileType == .directory, let base = directory.description.inode else { throw .notdir }
        if !directory.rightsBase.isSuperset(of: needed) { throw .notcapable }

        if flags.contains(.create) && flags.contains(.directory) { throw .inval }
        let inode = try walker.resolveForOpen(
            from: base, path, create: flags.contains(.create), exclusive: flags.contains(.exclusive), followFinal: follow)

        let stat = try inode.stat()
        if path.hasSuffix("/") && stat.type != .directory { throw stat.type == .symbolicLink ? .loop : .notdir }
        if stat.type == .symbolicLink { throw .loop }
        if flags.contains(.directory) && stat.type != .directory { throw .notdir }

        let write = requestedBase.contains(.fdWrite) || (flags.contains(.truncate) && stat.type == .regularFile)
        let read = requestedBase.contains(.fdRead) || requestedBase.contains(.fdReaddir) || !write

        if let device = inode as? DeviceNode, case .standardStream(let stdioFD) = device.kind {
            var entry = try files.get(stdioFD)
            entry.file.retain()
            entry.preopenPath = nil
            return entry
        }
        if stat.type == .directory && write { throw .isdir }
        let mode = OpenMode(
            read: read, write: write, truncate: flags.contains(.truncate), append: fdFlags.contains(.append),
            directory: flags.contains(.directory))
        let description = try inode.open(mode)
        let maximum = Rights.maximum(for: description.fileType)
        var rights = requestedBase.intersection(directory.rightsInheriting).intersection(maximum)
        if !write { rights.subtract([.fdWrite, .fdAllocate, .fdFilestatSetSize]) }
        if !read { rights.subtract([.fdRead, .fdReaddir]) }
        return FileTable.Entry(
            description: description, rightsBase: rights,
            rightsInheriting: requestedInheriting.intersection(directory.rightsInheriting),
            flags: fdFlags.subtracting(.append), isReadable: read && stat.type != .directory,
            isWritable: write && stat.type != .directory)
    }

    static func pathReadlink(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(1), a.u32(2))
        let (buffer, length, usedPointer) = (a.u32(3), a.u32(4), a.u32(5))
        try c.memory.check(buffer, length)
        try c.memory.check(usedPointer, 4)
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathReadlink)
        let inode = try c.walker.resolve(from: directory, path, followFinal: false)
        let target = Array(try inode.readLink().utf8)
        let count = min(target.count, Int(length))
        try c.memory.writeBytes(target[..<count], at: buffer)
        try c.memory.storeU32(UInt32(count), at: usedPointer)
    }

    static func pathRemoveDirectory(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(1), a.u32(2))
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathRemoveDirectory)
        let (parent, name, _) = try c.walker.resolveParent(from: directory, path)
        if let child = try? parent.lookup(name), c.kernel.vfs.mountedRoot(on: child) != nil { throw .busy }
        try parent.removeDirectory(name)
    }

    static func pathRename(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let oldPath = try c.memory.readString(a.u32(1), a.u32(2))
        let newPath = try c.memory.readString(a.u32(4), a.u32(5))
        let (oldDirectory, _) = try base(c, fd: a.u32(0), requiring: .pathRenameSource)
        let (newDirectory, _) = try base(c, fd: a.u32(3), requiring: .pathRenameTarget)
        let (oldParent, oldName, oldNamesDirectory) = try c.walker.resolveParent(from: oldDirectory, oldPath)
        let (newParent, newName, newNamesDirectory) = try c.walker.resolveParent(from: newDirectory, newPath)
        let moving = try oldParent.lookup(oldName)
        // `file/` (either side) names a directory: a regular file there is ENOTDIR, as on Linux.
        if oldNamesDirectory || newNamesDirectory, try moving.stat().type != .directory { throw .notdir }
        if c.kernel.vfs.mountedRoot(on: moving) != nil { throw .busy }
        if oldParent.device != newParent.device { throw .xdev }
        try oldParent.rename(oldName, to: newParent, as: newName)
    }

    static func pathSymlink(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let target = try c.memory.readString(a.u32(0), a.u32(1))
        let path = try c.memory.readString(a.u32(3), a.u32(4))
        let (directory, _) = try base(c, fd: a.u32(2), requiring: .pathSymlink)
        if target.hasPrefix("/") { throw PathWalker.escape }
        let (parent, name, namesDirectory) = try c.walker.resolveParent(from: directory, path)
        // A link is never a directory: `link/` fails (EEXIST if the name exists, else ENOENT).
        if namesDirectory { throw (try? parent.lookup(name)) != nil ? Errno.exist : Errno.noent }
        try parent.createSymlink(name, target: target)
    }

    static func pathUnlinkFile(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let path = try c.memory.readString(a.u32(1), a.u32(2))
        let (directory, _) = try base(c, fd: a.u32(0), requiring: .pathUnlinkFile)
        let (parent, name, mustBeDirectory) = try c.walker.resolveParent(from: directory, path)
        if mustBeDirectory {
            throw try parent.lookup(name).stat().type == .directory ? Errno.isdir : Errno.notdir
        }
        try parent.unlinkFile(name)
    }
}
