/// Resolves guest paths one component at a time, beneath a starting folder.
///
/// The rules that keep a guest inside what it was given:
/// - a path is relative to a directory descriptor; absolute paths are refused;
/// - `..` never climbs above the starting folder;
/// - a symbolic link is read by the kernel and interpreted in the guest's namespace: an absolute
///   target is refused, and its `..` components never climb above the root of the mount that
///   holds the link;
/// - more than 40 links in one resolution is `ELOOP`.
/// Escapes answer ``Errno/perm``, as wasmtime does.
struct PathWalker {
    let vfs: VirtualFileSystem
    static let maximumLinks = 40

    /// The errno of a refused escape.
    static let escape = Errno.perm

    private struct Frame {
        var inode: any Inode
        var isMountRoot: Bool
    }

    /// Resolves `path` from `base`; the final symbolic link is followed when `followFinal`.
    func resolve(from base: any Inode, _ path: String, followFinal: Bool) throws(Errno) -> any Inode {
        if path.isEmpty { throw .noent }
        if path.hasPrefix("/") { throw PathWalker.escape }
        let components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        let stack = try walk(from: base, components: components, followFinal: followFinal)
        return stack.last!.inode
    }

    /// Resolves every component of `path` but the last, which it returns as `name`.
    /// `mustBeDirectory` is set when the path ends with `/`.
    func resolveParent(from base: any Inode, _ path: String) throws(Errno) -> (parent: any Inode, name: String, mustBeDirectory: Bool) {
        if path.isEmpty { throw .noent }
        if path.hasPrefix("/") { throw PathWalker.escape }
        var components = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var mustBeDirectory = false
        while components.count > 1, components.last == "" {
            components.removeLast()
            mustBeDirectory = true
        }
        let name = components.removeLast()
        if name == ".." {
            // The parent of "x/.." would be above the folder "x/.." names: resolve it instead.
            _ = try walk(from: base, components: components + [".."], followFinal: true)
            throw .inval
        }
        let stack = try walk(from: base, components: components, followFinal: true)
        let parent = stack.last!.inode
        if name == "." { throw .inval }
        return (parent, name, mustBeDirectory)
    }

    private func walk(from base: any Inode, components: [String], followFinal: Bool) throws(Errno) -> [Frame] {
        var stack = [Frame(inode: base, isMountRoot: true)]
        // Pending components, last first, each with the lowest stack index `..` may reach.
        var pending: [(name: String, floor: Int)] = components.reversed().map { ($0, 0) }
        var links = 0
        while let (name, floor) = pending.popLast() {
            if name.isEmpty || name == "." { continue }
            if name == ".." {
                if stack.count - 1 <= floor { throw PathWalker.escape }
                stack.removeLast()
                continue
            }
            let isFinal = pending.allSatisfy { $0.name.isEmpty || $0.name == "." }
            let current = stack.last!.inode
            let child = try current.lookup(name)
            if let mounted = vfs.mountedRoot(on: child) {
                stack.append(Frame(inode: mounted, isMountRoot: true))
                continue
            }
            if (!isFinal || followFinal || !pending.isEmpty), try child.stat().type == .symbolicLink {
                links += 1
                if links > PathWalker.maximumLinks { throw .loop }
                let target = try child.readLink()
                if target.isEmpty { throw .noent }
                if target.hasPrefix("/") { throw PathWalker.escape }
                let linkFloor = stack.lastIndex { $0.isMountRoot } ?? 0
                for part in target.split(separator: "/", omittingEmptySubsequences: false).reversed() {
                    pending.append((String(part), linkFloor))
                }
                continue
            }
            stack.append(Frame(inode: child, isMountRoot: false))
        }
        return stack
    }

    /// Resolves `path` for an open: with `create`, an existing file (`EEXIST` when `exclusive`)
    /// or a new one in its parent (`EISDIR` for a path ending in "/").
    func resolveForOpen(from base: any Inode, _ path: String, create: Bool, exclusive: Bool, followFinal: Bool) throws(Errno) -> any Inode {
        guard create else { return try resolve(from: base, path, followFinal: followFinal) }
        let (parent, name, mustBeDirectory) = try resolveParent(from: base, path)
        if mustBeDirectory { throw .isdir }
        if (try? parent.lookup(name)) != nil {
            if exclusive { throw .exist }
            return try resolve(from: base, path, followFinal: followFinal)
        }
        return try parent.createFile(name, exclusive: exclusive)
    }
}
