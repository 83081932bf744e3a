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
    func apply(to files: FileTable, vfs: VirtualFileSystem) throws(Errno) {
        switch self {
        case .close(let fd):
            try files.close(fd)
        case .dup2(let fd, let newFD):
            try files.duplicate(fd, to: newFD)
        case .open(let fd, let path, let flags):
            guard path.hasPrefix("/") else { throw Errno.inval.with(reason: "spawn opens absolute guest paths only, got \"\(path)\"") }
            let read = flags & OpenFlags.readOnly != 0
            let write = flags & OpenFlags.writeOnly != 0
            let inode = try PathWalker(vfs: vfs).resolveForOpen(
                from: vfs.root, String(path.dropFirst()), create: flags & OpenFlags.create != 0,
                exclusive: flags & OpenFlags.exclusive != 0, followFinal: true)
            let stat = try inode.stat()
            if flags & OpenFlags.directory != 0 && stat.type != .directory { throw .notdir }
            if stat.type == .directory && write { throw .isdir }
            let description = try inode.open(OpenMode(
                read: read || !write, write: write, truncate: flags & OpenFlags.truncate != 0,
                append: flags & OpenFlags.append != 0, directory: stat.type == .directory))
            let rights = Rights.maximum(for: description.fileType)
            let entry = FileTable.Entry(
                description: description, rightsBase: rights, rightsInheriting: rights, flags: [],
                isReadable: (read || !write) && stat.type != .directory, isWritable: write)
            try? files.close(fd)
            files.install(entry, at: fd)
        }
    }
}
