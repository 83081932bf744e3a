import CCloisterABI

/// One file action of a spawn (`struct cloister_spawn_file_action` in `cloister.h`), applied
/// in order to the child's copy of the parent's descriptor table.
enum SpawnFileAction: Equatable {
    /// Opens the absolute guest `path` as descriptor `fd` with wasi-libc's `O_*` flags.
    case open(fd: UInt32, path: String, flags: UInt32)
    case close(fd: UInt32)
    /// Makes `newFD` refer to what `fd` refers to.
    case dup2(fd: UInt32, newFD: UInt32)

    /// wasi-libc's encoding of the open(2) flags (`<fcntl.h>` for wasm32-wasi).
    enum OpenFlags {
        static let append: UInt32 = 0x0001
        static let create: UInt32 = 1 << 12
        static let directory: UInt32 = 2 << 12
        static let exclusive: UInt32 = 4 << 12
        static let truncate: UInt32 = 8 << 12
        static let readOnly: UInt32 = 0x0400_0000
        static let writeOnly: UInt32 = 0x1000_0000
    }

    /// Decodes one action from its guest layout (`count` checked by the caller).
    static func decode(_ raw: cloister_spawn_file_action, memory: any UserMemory) throws(Errno) -> SpawnFileAction {
        func descriptor(_ value: Int32) throws(Errno) -> UInt32 {
            guard value >= 0, value < Int32(FileTable.limit) else { throw Errno.badf.with(reason: "spawn file action names descriptor \(value)") }
            return UInt32(value)
        }
        switch Int32(bitPattern: raw.kind) {
        case CLOISTER_SPAWN_FILE_ACTION_OPEN:
            return .open(fd: try descriptor(raw.fd), path: try memory.readString(raw.path_ptr, raw.path_len), flags: raw.oflags)
        case CLOISTER_SPAWN_FILE_ACTION_CLOSE:
            return .close(fd: try descriptor(raw.fd))
        case CLOISTER_SPAWN_FILE_ACTION_DUP2:
            return .dup2(fd: try descriptor(raw.fd), newFD: try descriptor(raw.new_fd))
        default:
            throw Errno.inval.with(reason: "unknown spawn file action kind \(raw.kind)")
        }
    }

    /// Applies the action to a child's table.
    ///
    /// `OPEN` resolves its absolute path as the guest's own `open()` would (wasi-libc): beneath
    /// the preopened directory of the child's table — its parent's descriptors — whose path is the
    /// longest prefix of it, with that descriptor's rights. So a child never gets a right its
    /// parent dropped (`fd_fdstat_set_rights`) or a folder its parent closed: `ENOTCAPABLE`.
    func apply(to files: FileTable, vfs: VirtualFileSystem) throws(Errno) {
        switch self {
        case .close(let fd):
            try files.close(fd)
        case .dup2(let fd, let newFD):
            try files.duplicate(fd, to: newFD)
        case .open(let fd, let path, let flags):
            guard path.hasPrefix("/") else { throw Errno.inval.with(reason: "spawn opens absolute guest paths only, got \"\(path)\"") }
            guard let (directory, relative) = files.preopen(containing: path) else {
                throw Errno.notcapable.with(reason: "no descriptor of the parent holds \(path)")
            }
            let read = flags & OpenFlags.readOnly != 0
            let write = flags & OpenFlags.writeOnly != 0
            var wasiFlags = WASIPreview1.OpenFlags()
            if flags & OpenFlags.create != 0 { wasiFlags.insert(.create) }
            if flags & OpenFlags.directory != 0 { wasiFlags.insert(.directory) }
            if flags & OpenFlags.exclusive != 0 { wasiFlags.insert(.exclusive) }
            if flags & OpenFlags.truncate != 0 { wasiFlags.insert(.truncate) }
            var rights = Rights.all
            if !write { rights.remove(.fdWrite) }
            if write && !read { rights.subtract([.fdRead, .fdReaddir]) }
            let entry = try WASIPreview1.open(
                relative, beneath: directory, in: files, walker: PathWalker(vfs: vfs), flags: wasiFlags, base: rights,
                inheriting: .all, fdFlags: flags & OpenFlags.append != 0 ? .append : [], followFinal: true)
            try? files.close(fd)
            files.install(entry, at: fd)
        }
    }
}
