import WasmKit

/// Parsed modules by the identity of the file they came from, shared by every instance in the
/// host process: a program run again is not parsed or checked again.
///
/// The key is the host file's path, inode number, size and modification time, so a changed
/// file is parsed anew. Programs on in-memory file systems are not cached.
public final class ModuleCache: @unchecked Sendable {
    /// The cache every kernel in this host process uses.
    public static let shared = ModuleCache()

    private let lock = KernelLock()
    private var modules: [String: Module] = [:]
    private var hitCount = 0
    private var missCount = 0
    /// The most modules kept; the oldest are dropped beyond it.
    public let capacity = 64
    private var order: [String] = []

    /// How many lookups were answered from the cache, and how many were not.
    public var statistics: (hits: Int, misses: Int) { lock.withLock { (hitCount, missCount) } }

    func module(for key: String?, load: () throws(Errno) -> Module) throws(Errno) -> Module {
        guard let key else { return try load() }
        let cached = lock.withLock { () -> Module? in
            guard let module = modules[key] else { return nil }
            hitCount += 1
            return module
        }
        if let cached { return cached }
        let module = try load()
        lock.withLock {
            missCount += 1
            if modules[key] == nil { order.append(key) }
            modules[key] = module
            while order.count > capacity { modules[order.removeFirst()] = nil }
        }
        return module
    }

    /// Forgets every module.
    public func removeAll() {
        lock.withLock {
            modules = [:]
            order = []
        }
    }
}
