/// The embedder's access to files in an instance's guest namespace: how an executor stages a
/// function's inputs before a run and collects its outputs after it.
///
/// Paths are absolute guest paths, resolved as a guest's would be (beneath the root, symbolic
/// links interpreted by the kernel, never escaping a mount).
extension Kernel {
    /// An open guest file, read or written from the host.
    public final class GuestFile: @unchecked Sendable {
        private let description: any FileDescription
        private var isClosed = false

        init(_ description: any FileDescription) { self.description = description }

        deinit { close() }

        /// Reads up to `buffer.count` bytes; 0 at the end of the file.
        public func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
            try description.read(into: buffer)
        }

        /// Reads up to `maxCount` bytes; empty at the end of the file.
        public func read(maxCount: Int) throws(Errno) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: maxCount)
            var result: Result<Int, Errno> = .success(0)
            bytes.withUnsafeMutableBytes { buffer in
                do throws(Errno) { result = .success(try read(into: buffer)) } catch { result = .failure(error) }
            }
            bytes.removeSubrange(try result.get()...)
            return bytes
        }

        /// Reads the rest of the file.
        public func readAll() throws(Errno) -> [UInt8] {
            var bytes: [UInt8] = []
            while true {
                let chunk = try read(maxCount: 1 << 16)
                if chunk.isEmpty { return bytes }
                bytes += chunk
            }
        }

        /// Writes all of `buffer`.
        public func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) {
            if try description.writeFully(buffer) < buffer.count {
                throw Errno.io.with(reason: "the file accepted no more bytes")
            }
        }

        /// Writes all of `bytes`.
        public func write(_ bytes: [UInt8]) throws(Errno) {
            var failure: Errno?
            bytes.withUnsafeBytes { buffer in
                do throws(Errno) { try write(buffer) } catch { failure = error }
            }
            if let failure { throw failure }
        }

        /// Closes the file (also done when it is released).
        public func close() {
            guard !isClosed else { return }
            isClosed = true
            description.close()
        }
    }

    /// Creates the folder at `path` and any missing parents.
    public func createGuestDirectory(_ path: String) throws(Errno) {
        var current = vfs.root
        for component in try Self.components(of: path) {
            if let existing = try? current.lookup(component) {
                current = existing
            } else {
                try current.createDirectory(component)
                current = try current.lookup(component)
            }
            guard try current.stat().type == .directory else { throw Errno.notdir.with(reason: "\(path): \(component) is not a folder") }
        }
    }

    /// Creates (or truncates) the regular file at `path`, whose folder must exist, for writing.
    public func createGuestFile(_ path: String) throws(Errno) -> GuestFile {
        let relative = try Self.components(of: path).joined(separator: "/")
        let inode = try PathWalker(vfs: vfs).resolveForOpen(from: vfs.root, relative, create: true, exclusive: false, followFinal: false)
        guard try inode.stat().type == .regularFile else { throw Errno.isdir.with(reason: "\(path) is not a regular file") }
        return GuestFile(try inode.open(OpenMode(read: false, write: true, truncate: true)))
    }

    /// Opens the regular file at `path` for reading.
    public func openGuestFile(_ path: String) throws(Errno) -> GuestFile {
        let inode = try PathWalker(vfs: vfs).resolve(from: vfs.root, try Self.components(of: path).joined(separator: "/"), followFinal: false)
        guard try inode.stat().type == .regularFile else { throw Errno.inval.with(reason: "\(path) is not a regular file") }
        return GuestFile(try inode.open(OpenMode(read: true, write: false)))
    }

    /// The names in the folder at `path` (without `.` and `..`), with their types.
    public func guestDirectoryEntries(_ path: String) throws(Errno) -> [DirectoryEntry] {
        let components = try Self.components(of: path)
        let inode = components.isEmpty ? vfs.root : try PathWalker(vfs: vfs).resolve(from: vfs.root, components.joined(separator: "/"), followFinal: true)
        return try inode.entries().filter { $0.name != "." && $0.name != ".." }
    }

    /// The components of an absolute guest path; `EINVAL` for a relative path, a NUL, `.` or `..`.
    private static func components(of path: String) throws(Errno) -> [String] {
        guard path.hasPrefix("/"), !path.contains("\0") else { throw Errno.inval.with(reason: "\"\(path)\" is not an absolute guest path") }
        let components = path.split(separator: "/").map(String.init)
        guard !components.contains(where: { $0 == "." || $0 == ".." }) else {
            throw Errno.inval.with(reason: "\"\(path)\" must not contain . or ..")
        }
        return components
    }
}
