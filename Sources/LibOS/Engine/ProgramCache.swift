import ProtectedFiles

/// Programs already checked and compiled, shared by every kernel in the host process: a program
/// run again is not read, checked, instrumented or compiled again.
///
/// Two keys find a program: the identity of the host file it came from (path, inode, size,
/// modification time — a changed file is read anew), and the SHA-256 of its bytes, which also
/// finds programs on in-memory file systems (a function payload written into each run's
/// sandbox) and copies of one file under other names. Both keys include the engine and whether
/// the program is instrumented.
public final class ProgramCache: @unchecked Sendable {
    /// The cache every kernel in this host process uses.
    public static let shared = ProgramCache()

    struct Entry {
        let facts: ModuleFacts
        let module: any EngineModule
    }

    private let lock = KernelLock()
    private var entries: [String: Entry] = [:]
    private var order: [String] = []
    private var hitCount = 0
    private var missCount = 0
    /// The most keys kept; the oldest are dropped beyond it.
    public let capacity = 128

    /// How many loads were answered from the cache, and how many compiled.
    public var statistics: (hits: Int, misses: Int) { lock.withLock { (hitCount, missCount) } }

    func entry(for key: String) -> Entry? {
        lock.withLock {
            guard let entry = entries[key] else { return nil }
            hitCount += 1
            return entry
        }
    }

    func store(_ entry: Entry, under keys: [String], compiled: Bool) {
        lock.withLock {
            if compiled { missCount += 1 }
            for key in keys {
                if entries[key] == nil { order.append(key) }
                entries[key] = entry
            }
            while order.count > capacity { entries[order.removeFirst()] = nil }
        }
    }

    /// The key of a program's bytes (their SHA-256 `digest`) for `engine`, instrumented or not.
    static func contentKey(digest: [UInt8], engine: EngineKind, instrumented: Bool) -> String {
        "sha256|\(Hex.encode(digest))|\(engine)|\(instrumented)"
    }

    /// The key of a host file's identity for `engine`, instrumented or not.
    static func identityKey(_ identity: String, engine: EngineKind, instrumented: Bool) -> String {
        "file|\(identity)|\(engine)|\(instrumented)"
    }

    /// Forgets `module` under every key (its next load reads the engine's artifact cache).
    func forget(_ module: any EngineModule) {
        lock.withLock {
            let keys = entries.filter { $0.value.module === module }.map(\.key)
            for key in keys { entries[key] = nil }
            order.removeAll { keys.contains($0) }
        }
    }

    /// Forgets every program (the next load of each compiles again, or reads the engine's own
    /// artifact cache).
    public func removeAll() {
        lock.withLock {
            entries = [:]
            order = []
        }
    }
}
