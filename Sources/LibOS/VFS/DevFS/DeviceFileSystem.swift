#if canImport(Glibc)
import Glibc
#endif
import CLibOSHost

/// The `devfs` mount: `/dev/null`, `/dev/zero`, `/dev/urandom`, `/dev/random` and the process's
/// standard streams as `/dev/stdin`, `/dev/stdout`, `/dev/stderr`. Its folder is fixed: nothing
/// can be created, removed or renamed in it (`EPERM`).
public final class DeviceFileSystem: @unchecked Sendable {
    let device: UInt64
    public private(set) var root: DeviceNode!

    public init(device: UInt64) {
        self.device = device
        root = DeviceNode(fs: self, kind: .directory, number: 1)
        children = [
            "null": DeviceNode(fs: self, kind: .null, number: 2),
            "zero": DeviceNode(fs: self, kind: .zero, number: 3),
            "urandom": DeviceNode(fs: self, kind: .random, number: 4),
            "random": DeviceNode(fs: self, kind: .random, number: 5),
            "stdin": DeviceNode(fs: self, kind: .standardStream(0), number: 6),
            "stdout": DeviceNode(fs: self, kind: .standardStream(1), number: 7),
            "stderr": DeviceNode(fs: self, kind: .standardStream(2), number: 8),
        ]
    }

    fileprivate var children: [String: DeviceNode] = [:]
}

/// A node of the ``DeviceFileSystem``.
public final class DeviceNode: Inode, @unchecked Sendable {
    enum Kind: Equatable {
        case directory, null, zero, random
        /// Stands for the opening process's descriptor 0, 1 or 2; the kernel substitutes it.
        case standardStream(UInt32)
    }

    unowned let fs: DeviceFileSystem
    let kind: Kind
    let number: UInt64
    private let created = nowNanoseconds()

    init(fs: DeviceFileSystem, kind: Kind, number: UInt64) {
        self.fs = fs
        self.kind = kind
        self.number = number
    }

    public var device: UInt64 { fs.device }
    public var identity: InodeIdentity { InodeIdentity(device: fs.device, inode: number) }

    public func stat() throws(Errno) -> FileStat {
        FileStat(
            device: fs.device, inode: number, type: kind == .directory ? .directory : .characterDevice,
            linkCount: kind == .directory ? 2 : 1, size: 0, accessTime: created, modificationTime: created,
            changeTime: created)
    }

    private func requireDirectory() throws(Errno) {
        if kind != .directory { throw .notdir }
    }

    public func lookup(_ name: String) throws(Errno) -> any Inode {
        try requireDirectory()
        guard let child = fs.children[name] else { throw .noent }
        return child
    }

    public func createFile(_ name: String, exclusive: Bool) throws(Errno) -> any Inode {
        try requireDirectory()
        if let child = fs.children[name] {
            if exclusive { throw .exist }
            return child
        }
        throw .perm
    }

    public func createDirectory(_ name: String) throws(Errno) { try requireDirectory(); throw fs.children[name] == nil ? .perm : .exist }
    public func createSymlink(_ name: String, target: String) throws(Errno) { try requireDirectory(); throw .perm }
    public func link(_ inode: any Inode, as name: String) throws(Errno) { try requireDirectory(); throw .perm }
    public func unlinkFile(_ name: String) throws(Errno) { try requireDirectory(); throw .perm }
    public func removeDirectory(_ name: String) throws(Errno) { try requireDirectory(); throw .perm }
    public func rename(_ name: String, to directory: any Inode, as newName: String) throws(Errno) { try requireDirectory(); throw .perm }

    public func entries() throws(Errno) -> [DirectoryEntry] {
        try requireDirectory()
        return [
            DirectoryEntry(name: ".", inode: number, type: .directory),
            DirectoryEntry(name: "..", inode: number, type: .directory),
        ] + fs.children.sorted { $0.key < $1.key }.map {
            DirectoryEntry(name: $0.key, inode: $0.value.number, type: .characterDevice)
        }
    }

    public func readLink() throws(Errno) -> String { throw .inval }

    public func open(_ mode: OpenMode) throws(Errno) -> any FileDescription {
        switch kind {
        case .directory:
            if mode.write { throw .isdir }
            return DirectoryDescription(inode: self)
        case .standardStream:
            throw .nodev  // the kernel opens these itself
        default:
            if mode.directory { throw .notdir }
            return DeviceDescription(node: self)
        }
    }

    public func setTimes(access: TimeChange, modification: TimeChange) throws(Errno) { throw .perm }
    public func setSize(_ size: UInt64) throws(Errno) { if kind == .directory { throw .isdir } }
}

/// An open `/dev/null`, `/dev/zero` or `/dev/urandom`.
final class DeviceDescription: FileDescription, @unchecked Sendable {
    let node: DeviceNode
    init(node: DeviceNode) { self.node = node }
    var inode: (any Inode)? { node }
    var fileType: FileType { .characterDevice }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        switch node.kind {
        case .null: return 0
        case .zero:
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            return buffer.count
        default:
            fillRandom(buffer)
            return buffer.count
        }
    }

    func write(_ buffer: UnsafeRawBufferPointer) throws(Errno) -> Int { buffer.count }
    func pread(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { try read(into: buffer) }
    func pwrite(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(Errno) -> Int { buffer.count }
    func seek(_ offset: Int64, from origin: SeekOrigin) throws(Errno) -> UInt64 { 0 }
    func stat() throws(Errno) -> FileStat { try node.stat() }
    func setSize(_ size: UInt64) throws(Errno) {}
}

/// Fills `buffer` from the host's cryptographic random source.
func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) {
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    _ = cloister_host_random(base, UInt(buffer.count))
}
