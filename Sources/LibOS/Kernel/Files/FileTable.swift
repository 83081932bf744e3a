/// One process's file descriptors.
public final class FileTable: @unchecked Sendable {
    /// What a descriptor refers to, and what it may do.
    public struct Entry {
        /// The open file; the entry holds one reference to it while it is in a table.
        public var file: OpenFile
        public var description: any FileDescription { file.description }
        public var rightsBase: Rights
        public var rightsInheriting: Rights
        public var flags: FDFlags
        /// The guest path of a preopened directory.
        public var preopenPath: String?
        /// Whether the file was opened for reading and for writing (directories: neither).
        public var isReadable: Bool
        public var isWritable: Bool

        /// An entry for a newly opened `description`; `ownsDescription` is false for descriptions
        /// the kernel must never close (the host's standard streams).
        public init(
            description: any FileDescription, rightsBase: Rights, rightsInheriting: Rights, flags: FDFlags,
            preopenPath: String? = nil, ownsDescription: Bool = true, isReadable: Bool = true, isWritable: Bool = true
        ) {
            self.file = OpenFile(description, closesDescription: ownsDescription)
            self.rightsBase = rightsBase
            self.rightsInheriting = rightsInheriting
            self.flags = flags
            self.preopenPath = preopenPath
            self.isReadable = isReadable
            self.isWritable = isWritable
        }
    }

    /// The most descriptors a process may hold.
    public static let limit = 1024

    private let lock = KernelLock()
    private var entries: [Entry?] = []

    public init() {}

    /// The entry of `fd`, checking that it has every right in `rights` (`EBADF`, `ENOTCAPABLE`).
    @inline(__always)
    public func get(_ fd: UInt32, requiring rights: Rights = []) throws(Errno) -> Entry {
        let entry = lock.withLock { () -> Entry? in
            Int(fd) < entries.count ? entries[Int(fd)] : nil
        }
        guard let entry else { throw .badf }
        if !entry.rightsBase.isSuperset(of: rights) { throw .notcapable }
        return entry
    }

    /// The entry of `fd` for a read (`forWriting` false) or a write: `EBADF` when the file was not
    /// opened that way (as wasmtime answers), `ENOTCAPABLE` when the right was dropped.
    @inline(__always)
    public func get(_ fd: UInt32, forWriting: Bool, alsoRequiring rights: Rights = []) throws(Errno) -> Entry {
        let entry = try get(fd)
        if forWriting ? !entry.isWritable : !entry.isReadable { throw .badf }
        if !entry.rightsBase.isSuperset(of: rights.union(forWriting ? .fdWrite : .fdRead)) { throw .notcapable }
        return entry
    }

    /// Installs `entry` at the lowest free descriptor; the table takes over the entry's reference
    /// (on `EMFILE` the caller still holds it).
    public func insert(_ entry: Entry) throws(Errno) -> UInt32 {
        try lock.withLock { () throws(Errno) -> UInt32 in
            if let free = entries.firstIndex(where: { $0 == nil }) {
                entries[free] = entry
                return UInt32(free)
            }
            if entries.count >= FileTable.limit { throw .mfile }
            entries.append(entry)
            return UInt32(entries.count - 1)
        }
    }

    /// Installs `entry` at exactly `fd` (used for standard streams at start).
    public func install(_ entry: Entry, at fd: UInt32) {
        lock.withLock {
            while entries.count <= Int(fd) { entries.append(nil) }
            entries[Int(fd)] = entry
        }
    }

    /// Replaces the entry of an open `fd`.
    public func update(_ fd: UInt32, _ change: (inout Entry) throws(Errno) -> Void) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            guard Int(fd) < entries.count, var entry = entries[Int(fd)] else { throw .badf }
            try change(&entry)
            entries[Int(fd)] = entry
        }
    }

    /// Removes `fd` and releases its description.
    public func close(_ fd: UInt32) throws(Errno) {
        let removed = try lock.withLock { () throws(Errno) -> Entry in
            guard Int(fd) < entries.count, let entry = entries[Int(fd)] else { throw .badf }
            entries[Int(fd)] = nil
            return entry
        }
        removed.file.release()
    }

    /// Moves `from` onto `to`, closing what `to` held (`fd_renumber`).
    public func renumber(_ from: UInt32, to: UInt32) throws(Errno) {
        let replaced = try lock.withLock { () throws(Errno) -> Entry? in
            guard Int(from) < entries.count, let entry = entries[Int(from)] else { throw .badf }
            guard Int(to) < entries.count, let old = entries[Int(to)] else { throw .badf }
            if from == to { return nil }
            entries[Int(to)] = entry
            entries[Int(from)] = nil
            return old
        }
        replaced?.file.release()
    }

    /// Makes descriptor `to` refer to what `from` refers to, closing what `to` held (`dup2`).
    func duplicate(_ from: UInt32, to: UInt32) throws(Errno) {
        guard Int(to) < FileTable.limit else { throw .badf }
        let replaced = try lock.withLock { () throws(Errno) -> Entry? in
            guard Int(from) < entries.count, let entry = entries[Int(from)] else { throw .badf }
            if from == to { return nil }
            while entries.count <= Int(to) { entries.append(nil) }
            let old = entries[Int(to)]
            entry.file.retain()
            entries[Int(to)] = entry
            return old
        }
        replaced?.file.release()
    }

    /// The preopened directory whose guest path is the longest prefix of the absolute `path`
    /// (whole components), and the rest of `path` relative to it (`.` for the directory itself),
    /// as wasi-libc resolves an absolute path for `open()`.
    func preopen(containing path: String) -> (entry: Entry, relative: String)? {
        let candidates = lock.withLock { entries.compactMap { $0 } }.filter { $0.preopenPath != nil }
        var best: (entry: Entry, relative: String, length: Int)?
        for entry in candidates {
            let prefix = entry.preopenPath!
            let relative: String
            if prefix == "/" {
                relative = String(path.drop { $0 == "/" })
            } else if path == prefix {
                relative = ""
            } else if path.hasPrefix(prefix + "/") {
                relative = String(path.dropFirst(prefix.count).drop { $0 == "/" })
            } else {
                continue
            }
            if best == nil || prefix.count > best!.length { best = (entry, relative.isEmpty ? "." : relative, prefix.count) }
        }
        return best.map { ($0.entry, $0.relative) }
    }

    /// A new table with every descriptor of this one, sharing their open files (a child's table
    /// at spawn).
    func inherited() -> FileTable {
        let copy = FileTable()
        lock.withLock {
            for case let entry? in entries { entry.file.retain() }
            copy.entries = entries
        }
        return copy
    }

    /// Closes every descriptor.
    public func closeAll() {
        let all = lock.withLock { () -> [Entry?] in
            defer { entries = [] }
            return entries
        }
        for case let entry? in all { entry.file.release() }
    }
}
