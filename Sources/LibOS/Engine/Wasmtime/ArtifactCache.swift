#if canImport(Glibc)
import Glibc
#endif
import Crypto
import Foundation
import ProtectedFiles
import Synchronization

/// Compiled artifacts — native code — kept between runs in a host-private folder, so a program's
/// second run, in this process or the next, never compiles.
///
/// An artifact is machine code the kernel will map executable, so only artifacts the kernel
/// wrote itself are ever loaded:
/// - the folder must be a real directory owned by this user and closed to everyone else (0700);
///   a folder that is not is refused, and nothing is cached;
/// - every artifact carries a tag (AES-GCM's GMAC, a fresh nonce each) over its bytes, under a
///   key derived for its name from a key kept in the folder (`cache.key`, 0600). A flipped byte, a truncated file, an artifact copied from
///   another cache or written by anyone without the key fails the check: it is deleted and the
///   program compiled again. wasmtime itself checks nothing of the kind (a flipped byte loaded);
/// - an artifact's name is the SHA-256 of the instrumented module and of the engine's
///   configuration (``WasmtimeEngine/fingerprint``), so code compiled under another
///   configuration is never looked up;
/// - files are opened without following symbolic links and mapped private and read-only; the
///   mapping is checked, then handed to the engine, which copies the code into memory of its
///   own.
///
/// Guests, tenants and the network never supply artifacts: the platform stores payloads as
/// WebAssembly and the kernel compiles them.
final class ArtifactCache: @unchecked Sendable {
    let directory: String
    private let key: SymmetricKey
    /// How many artifacts failed their check (and were deleted).
    private let refused = Atomic<Int>(0)
    var refusals: Int { refused.load(ordering: .relaxed) }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var opened: [String: ArtifactCache] = [:]

    /// The cache in `directory` (created 0700 when missing), shared by every kernel that names
    /// it; nil, with the reason, when the folder cannot be made private to this user.
    static func open(_ directory: String) -> Result<ArtifactCache, EngineUnavailable> {
        lock.lock()
        defer { lock.unlock() }
        if let cache = opened[directory] { return .success(cache) }
        do {
            let cache = try ArtifactCache(directory: directory)
            opened[directory] = cache
            return .success(cache)
        } catch let error as EngineUnavailable {
            return .failure(error)
        } catch {
            return .failure(EngineUnavailable("the artifact cache \(directory) cannot be used: \(error)"))
        }
    }

    /// The cache folder when none is configured: `$CLOISTER_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/cloister`, else `~/.cache/cloister`.
    static var defaultDirectory: String {
        let environment = ProcessInfo.processInfo.environment
        if let configured = environment["CLOISTER_CACHE_DIR"], !configured.isEmpty { return configured }
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/cloister" }
        return NSHomeDirectory() + "/.cache/cloister"
    }

    private init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        var status = stat()
        guard lstat(directory, &status) == 0, status.st_mode & S_IFMT == S_IFDIR else {
            throw EngineUnavailable("the artifact cache \(directory) is not a directory")
        }
        guard status.st_uid == geteuid() else {
            throw EngineUnavailable("the artifact cache \(directory) belongs to another user")
        }
        if status.st_mode & 0o077 != 0, chmod(directory, 0o700) != 0 {
            throw EngineUnavailable("the artifact cache \(directory) is open to other users and cannot be closed")
        }
        let keyPath = directory + "/cache.key"
        // A process that finds no key writes one; one that loses that race reads the winner's.
        if Self.readPrivateFile(keyPath)?.count != 32 {
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            _ = Self.writePrivateFile(keyPath, replacing: false, fresh)
        }
        guard let bytes = Self.readPrivateFile(keyPath), bytes.count == 32 else {
            throw EngineUnavailable("the artifact cache's key \(keyPath) cannot be read or written")
        }
        key = SymmetricKey(data: bytes)
    }

    /// The file name of the artifact of a module with SHA-256 `digest` under `fingerprint`.
    static func name(digest: [UInt8], fingerprint: String) -> String {
        Hex.encode(SHA256.hash(data: digest + Array(fingerprint.utf8))) + ".cwasm"
    }

    /// Calls `body` with the entry `name` (an artifact, or an index) — mapped, not copied, and
    /// checked first — if the cache holds one that passes its check; one that fails is deleted.
    func withEntry<T>(_ name: String, _ body: (UnsafeRawBufferPointer) -> T?) -> T? {
        let fd = Glibc.open(directory + "/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == geteuid() else { return nil }
        let size = Int(status.st_size)
        guard size > Self.headerSize else {
            refused.add(1, ordering: .relaxed)
            remove(name)
            return nil
        }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapping != MAP_FAILED else { return nil }
        defer { munmap(mapping, size) }
        let bytes = UnsafeRawBufferPointer(start: mapping, count: size)
        let artifact = UnsafeRawBufferPointer(rebasing: bytes[Self.headerSize...])
        guard verify(UnsafeRawBufferPointer(rebasing: bytes[..<Self.headerSize]), name: name, artifact) else {
            refused.add(1, ordering: .relaxed)
            remove(name)
            return nil
        }
        return body(artifact)
    }

    // MARK: The index

    /// The SHA-256 and the facts of the program in the host file of `identity` (path, inode,
    /// size, modification time), as recorded when it was compiled: with them a process loads
    /// the program's artifact without reading the program.
    func index(_ identity: String) -> (digest: [UInt8], facts: ModuleFacts)? {
        withEntry(Self.indexName(identity)) { bytes -> (digest: [UInt8], facts: ModuleFacts)? in
            guard let entry = try? JSONDecoder().decode(IndexEntry.self, from: Data(bytes)),
                let digest = try? Hex.decode(entry.digest), digest.count == 32
            else { return nil }
            return (digest, entry.facts)
        }
    }

    /// Records the SHA-256 and facts of the program in the host file of `identity`.
    func storeIndex(_ identity: String, digest: [UInt8], facts: ModuleFacts) {
        guard let bytes = try? JSONEncoder().encode(IndexEntry(digest: Hex.encode(digest), facts: facts)) else { return }
        bytes.withUnsafeBytes { store(Self.indexName(identity), $0.bindMemory(to: UInt8.self)) }
    }

    private struct IndexEntry: Codable {
        var digest: String
        var facts: ModuleFacts
    }

    private static func indexName(_ identity: String) -> String {
        "index-" + Hex.encode(SHA256.hash(data: Array(identity.utf8)))
    }

    /// Keeps `artifact` as `name` (written aside, then renamed into place).
    func store(_ name: String, _ artifact: UnsafeBufferPointer<UInt8>) {
        let raw = UnsafeRawBufferPointer(artifact)
        let nonce = AES.GCM.Nonce()
        guard let sealed = try? AES.GCM.seal([UInt8](), using: entryKey(name), nonce: nonce, authenticating: raw) else { return }
        let header = Array(nonce) + Array(sealed.tag)
        let partial = directory + "/." + name + ".\(getpid()).partial"
        guard Self.writePrivateFile(partial, replacing: true, header, Array(artifact)) else { return }
        if rename(partial, directory + "/" + name) != 0 { unlink(partial) }
    }

    /// An entry starts with the nonce and the tag of an AES-GCM seal of nothing that
    /// authenticates the entry's bytes under a key derived for its name (a GMAC: as strong a MAC
    /// as HMAC-SHA256 here, and several times faster over the tens of megabytes of an
    /// interpreter's code).
    private static let headerSize = 12 + 16

    private func verify(_ header: UnsafeRawBufferPointer, name: String, _ artifact: UnsafeRawBufferPointer) -> Bool {
        guard let nonce = try? AES.GCM.Nonce(data: header[..<12]),
            let box = try? AES.GCM.SealedBox(nonce: nonce, ciphertext: [UInt8](), tag: header[12...])
        else { return false }
        return (try? AES.GCM.open(box, using: entryKey(name), authenticating: artifact)) != nil
    }

    /// The key of entry `name`: so that an entry renamed to another name fails its check.
    private func entryKey(_ name: String) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(inputKeyMaterial: key, info: Array(name.utf8), outputByteCount: 32)
    }

    func remove(_ name: String) { unlink(directory + "/" + name) }

    /// Reads a regular file this user owns, never following a symbolic link.
    private static func readPrivateFile(_ path: String) -> [UInt8]? {
        let fd = Glibc.open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_uid == geteuid() else { return nil }
        var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
        var done = 0
        while done < bytes.count {
            let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if count <= 0 { return nil }
            done += count
        }
        return bytes
    }

    /// Creates `path` (0600) holding `parts` in order; a file already there is replaced, or
    /// kept (and false returned).
    private static func writePrivateFile(_ path: String, replacing: Bool, _ parts: [UInt8]...) -> Bool {
        if replacing { unlink(path) }
        let fd = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        for part in parts {
            var done = 0
            while done < part.count {
                let count = part.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
                if count <= 0 {
                    unlink(path)
                    return false
                }
                done += count
            }
        }
        return true
    }
}
