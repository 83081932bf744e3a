/// The guest's file namespace: the mount table of one LibOS instance.
///
/// Built from the `mount` entries of `Cloister.json`. The entry for `/` (a `ramfs` when none is
/// given) is the root; every other file system is mounted on a folder of the namespace, created
/// when missing. The guest's preopened directories are the mounts, in the order of the config.
public final class VirtualFileSystem: @unchecked Sendable {
    /// One mounted file system.
    public struct Mount: Sendable {
        public var target: String
        public var type: MountType
        public var root: any Inode
        /// The host folder behind a `hostfs` mount.
        public var hostPath: String?
    }

    public private(set) var mounts: [Mount] = []
    /// Mounted roots by the identity of the folder they cover.
    private var mountedRoots: [InodeIdentity: any Inode] = [:]
    private var devicesWithMountPoints: Set<UInt64> = []
    private var nextDevice: UInt64 = 1
    /// Keeps every mounted file system alive for as long as the namespace.
    private var fileSystems: [AnyObject] = []

    /// What ramfs contents and the plaintext of open sefs files are charged to: the instance's
    /// `user_space_size`, which linear memory is charged to too.
    let budget: MemoryBudget

    /// Told when a `sefs` file fails authentication.
    private let reportTamper: @Sendable (String) -> Void

    /// Mounts every entry of `configs`; `hostfs` sources resolve against `instanceDirectory`.
    /// What ramfs and sefs hold in host memory is charged to `budget`.
    public init(
        mounts configs: [MountConfig], instanceDirectory: String, budget: MemoryBudget,
        reportTamper: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(Errno) {
        self.budget = budget
        self.reportTamper = reportTamper
        let rootConfig = configs.first { $0.target == "/" }
        let rootInode = try makeFileSystem(rootConfig ?? MountConfig.ramfs("/"), instanceDirectory: instanceDirectory)
        mounts.append(Mount(target: "/", type: rootConfig?.type ?? .ramfs, root: rootInode.inode, hostPath: rootInode.hostPath))
        let others = configs.filter { $0.target != "/" }
            .sorted { $0.target.split(separator: "/").count < $1.target.split(separator: "/").count }
        for config in others {
            let made = try makeFileSystem(config, instanceDirectory: instanceDirectory)
            if config.isPreopenOnly {
                mounts.append(Mount(target: config.target, type: config.type, root: made.inode, hostPath: made.hostPath))
                continue
            }
            let mountPoint = try createMountPoint(config.target)
            if let ram = mountPoint as? RamNode { ram.fs.lock.withLock { ram.isMountPoint = true } }
            mountedRoots[mountPoint.identity] = made.inode
            devicesWithMountPoints.insert(mountPoint.device)
            mounts.append(Mount(target: config.target, type: config.type, root: made.inode, hostPath: made.hostPath))
        }
        // The default HOME (/root) exists on an in-memory root.
        if let ram = root as? RamNode, (try? ram.lookup("root")) == nil { try? ram.createDirectory("root") }
        // Preopens follow the order of the config.
        mounts.sort { a, b in
            (configs.firstIndex { $0.target == a.target } ?? -1) < (configs.firstIndex { $0.target == b.target } ?? -1)
        }
    }

    /// The root of the namespace.
    public var root: any Inode { mounts.first { $0.target == "/" }!.root }

    private func makeFileSystem(_ config: MountConfig, instanceDirectory: String) throws(Errno) -> (inode: any Inode, hostPath: String?) {
        let device = nextDevice
        nextDevice += 1
        switch config.type {
        case .ramfs:
            let fs = RamFileSystem(device: device, budget: budget)
            fileSystems.append(fs)
            return (fs.root, nil)
        case .devfs:
            let fs = DeviceFileSystem(device: device)
            fileSystems.append(fs)
            return (fs.root, nil)
        case .hostfs:
            guard let source = config.resolvedSource(instanceDirectory: instanceDirectory) else {
                throw Errno.inval.with(reason: "mount \(config.target): hostfs needs a source")
            }
            do {
                let fs = try HostFileSystem(hostPath: source, device: device, readOnly: config.options["read_only"] == "true")
                fileSystems.append(fs)
                return (fs.root, source)
            } catch {
                throw error.with(reason: "mount \(config.target): cannot open hostfs source \(source): \(error.name)")
            }
        case .sefs:
            guard let source = config.resolvedSource(instanceDirectory: instanceDirectory) else {
                throw Errno.inval.with(reason: "mount \(config.target): sefs needs a source")
            }
            let host: HostFileSystem
            do {
                host = try HostFileSystem(hostPath: source, device: device)
            } catch {
                throw error.with(reason: "mount \(config.target): cannot open sefs source \(source): \(error.name)")
            }
            let fs = try SefsFileSystem(
                host: host,
                keyFile: config.options["key_file"].map { MountConfig.resolve(hostPath: $0, instanceDirectory: instanceDirectory) },
                instanceDirectory: instanceDirectory, target: config.target, budget: budget, reportTamper: reportTamper)
            fileSystems.append(fs)
            return (fs.root, source)
        }
    }

    /// Walks to `target` from the root, creating missing folders, and returns the folder.
    private func createMountPoint(_ target: String) throws(Errno) -> any Inode {
        var current = root
        for component in target.split(separator: "/").map(String.init) {
            let next: any Inode
            do {
                next = try current.lookup(component)
            } catch where error == .noent {
                do {
                    try current.createDirectory(component)
                    next = try current.lookup(component)
                } catch {
                    throw error.with(reason: "cannot create mount point \(target)")
                }
            }
            current = mountedRoot(on: next) ?? next
        }
        return current
    }

    /// The root mounted on `inode`, if `inode` is a mount point.
    @inline(__always)
    func mountedRoot(on inode: any Inode) -> (any Inode)? {
        guard !devicesWithMountPoints.isEmpty, devicesWithMountPoints.contains(inode.device) else { return nil }
        return mountedRoots[inode.identity]
    }
}

extension MountConfig {
    static func ramfs(_ target: String) -> MountConfig {
        MountConfig(target: target, type: .ramfs, source: nil, options: [:])
    }
}
