import Foundation
import Logging
import SQLKit
import Synchronization
import VaporCSQLite

/// The embedded database: one SQLite file in WAL mode, one writer connection and a few readers.
///
/// **Where statements run.** Every write transaction of the process runs on the writer's own thread
/// (``WriterThread``), its statements one after another with no hand-off between them; reads run on
/// the caller's thread, on one of the reader connections (``SQLiteHandle``).
///
/// **Group commit.** Every write transaction of the process goes through the one writer
/// connection, in order. While a commit is being flushed, the transactions that arrive queue up;
/// the writer then runs all of them inside one `BEGIN IMMEDIATE` … `COMMIT`, each in a savepoint of
/// its own (a body that throws rolls back its savepoint only), and answers each caller once that one
/// commit is on disk. One fsync acknowledges the whole group, so under load the fsyncs per call fall
/// well below one; alone, a call costs one.
///
/// **A call that finds the writer idle** runs its transaction at once on its own thread, with no
/// hand-off to the writer's thread and back (two thread wake-ups, a tenth of a task's latency).
/// It only starts if it can take the write lock without waiting (`beginWithoutWaiting`); when
/// another process holds it, the call goes to the writer's thread, which may wait. What it may
/// then block on is its own commit's fsync. The calls that queue behind it go to the writer's
/// thread as a group, as above.
///
/// **Commit policy.** `synchronous = FULL` for a group that holds a durable transaction (the WAL is
/// fsync'd before any caller hears back: nothing acknowledged is lost, even to a power cut),
/// `NORMAL` for a group of deferred ones only (written to the WAL, flushed by the next durable
/// commit or checkpoint; a crash of the process loses nothing, a power cut may lose them).
///
/// Another process on the same file (a `cloister worker` beside `cloister serve`) takes the write
/// lock in turn: `BEGIN IMMEDIATE` waits up to 10 s for it (`busy_timeout`).
final class SQLiteBackend: DatabaseBackend {
    let kind = DatabaseKind.sqlite
    private let writer: SQLiteHandle
    private let writerSQL: SQLiteSession
    private let readers: [SQLiteHandle]
    private let readerSQL: SQLiteSession
    private let thread: WriterThread
    private let queue = Mutex(Queue())
    /// The most transactions one commit takes.
    private let maxGroup = 128

    private struct Queue {
        var pending: [WriteRequest] = []
        var running = false
        var synchronous = "FULL"
    }

    /// One queued write transaction.
    private final class WriteRequest: Sendable {
        let durability: Durability
        /// False for work that must run outside any transaction (`VACUUM`): it runs alone.
        let transactional: Bool
        let run: @Sendable (any SQLDatabase) async throws -> Void
        let finish: @Sendable ((any Error)?) -> Void

        init(
            durability: Durability, transactional: Bool = true, run: @escaping @Sendable (any SQLDatabase) async throws -> Void,
            finish: @escaping @Sendable ((any Error)?) -> Void
        ) {
            self.durability = durability
            self.transactional = transactional
            self.run = run
            self.finish = finish
        }
    }

    private init(writer: SQLiteHandle, readers: [SQLiteHandle], logger: Logger) {
        self.writer = writer
        writerSQL = SQLiteSession(handles: [writer], logger: logger)
        self.readers = readers
        readerSQL = SQLiteSession(handles: readers, logger: logger)
        thread = WriterThread(name: "cloister-sqlite-writer")
    }

    /// Opens (creating if needed) the SQLite file at `path`.
    ///
    /// The file is created 0600 before SQLite opens it (SQLite gives its `-wal` and `-shm` files
    /// the database's mode), and an existing one is made 0600, whatever the umask. Deleted content
    /// is overwritten with zeros (`secure_delete`), so what a row held does not linger in free pages.
    static func open(path: String, readers readerCount: Int = 2, logger: Logger) async throws -> SQLiteBackend {
        let fd = Glibc.open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PlatformSetupError("cannot open \(path): \(String(cString: strerror(errno)))") }
        let restricted = fchmod(fd, 0o600) == 0
        Glibc.close(fd)
        guard restricted else { throw PlatformSetupError("cannot make \(path) private (chmod 0600)") }
        for suffix in ["-wal", "-shm", "-journal"] { chmod(path + suffix, 0o600) }
        var handles: [SQLiteHandle] = []
        do {
            for index in 0...readerCount {
                let handle = try SQLiteHandle.open(path: path)
                handles.append(handle)
                let sql = SQLiteSession(handles: [handle], logger: logger)
                if index == 0 {
                    try await sql.raw("PRAGMA secure_delete = ON").run()
                    try await enableWriteAheadLog(sql)
                    try await sql.raw("PRAGMA synchronous = FULL").run()
                } else {
                    try await sql.raw("PRAGMA query_only = ON").run()
                }
            }
        } catch {
            for handle in handles { handle.close() }
            throw error
        }
        return SQLiteBackend(writer: handles[0], readers: Array(handles.dropFirst()), logger: logger)
    }

    /// `PRAGMA journal_mode = WAL`. On a new file it needs a lock SQLite does not wait for (no
    /// busy handler), so of two processes that open one new database at once (a server and a
    /// worker started together) one was refused at once ("database is locked"). It is tried again
    /// for as long as a write waits for the lock anywhere else (10 s).
    private static func enableWriteAheadLog(_ sql: SQLiteSession) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while true {
            do {
                try await sql.raw("PRAGMA journal_mode = WAL").run()
                return
            } catch let failure as SQLiteFailure where failure.code & 0xff == SQLITE_BUSY && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
        }
    }

    func write<T: Sendable>(
        durability: Durability, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await enqueue(durability: durability, transactional: true, body)
    }

    private func enqueue<T: Sendable>(
        durability: Durability, transactional: Bool, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        if transactional, queue.withLock({ queue -> Bool in
            guard !queue.running else { return false }
            queue.running = true
            return true
        }) {
            if let value = try await runAlone(durability: durability, body) { return value }
        }
        let result = Mutex<T?>(nil)
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let request = WriteRequest(
                durability: durability, transactional: transactional,
                run: { sql in
                    let value = try await body(sql)
                    result.withLock { $0 = value }
                },
                finish: { error in
                    if let error {
                        continuation.resume(throwing: error)
                    } else {
                        continuation.resume(returning: result.withLock { $0! })
                    }
                })
            let start = queue.withLock { queue -> Bool in
                queue.pending.append(request)
                guard !queue.running else { return false }
                queue.running = true
                return true
            }
            if start { Task(executorPreference: thread) { await self.drain() } }
        }
    }

    /// Runs `body` in a transaction of its own on the calling thread, the queue having been idle
    /// (`running` set by the caller); nil, with nothing run, when another process holds the write
    /// lock (the caller then queues it for the writer's thread, which may wait). Hands whatever
    /// queued meanwhile to the writer's thread.
    private func runAlone<T: Sendable>(
        durability: Durability, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T? {
        defer {
            let more = queue.withLock { queue -> Bool in
                if queue.pending.isEmpty { queue.running = false }
                return queue.running
            }
            if more { Task(executorPreference: thread) { await self.drain() } }
        }
        let sql = writerSQL
        let synchronous = durability == .durable ? "FULL" : "NORMAL"
        if queue.withLock({ $0.synchronous }) != synchronous {
            try await sql.raw("PRAGMA synchronous = \(unsafeRaw: synchronous)").run()
            queue.withLock { $0.synchronous = synchronous }
        }
        guard try writer.beginWithoutWaiting() else { return nil }
        let value: T
        do {
            value = try await body(sql)
            try await sql.raw("COMMIT").run()
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
        return value
    }

    /// Commits groups until the queue is empty.
    private func drain() async {
        while true {
            let group = queue.withLock { queue -> [WriteRequest] in
                var group = Array(queue.pending.prefix(maxGroup))
                if let alone = group.firstIndex(where: { !$0.transactional }) { group = Array(group.prefix(max(alone, 1))) }
                queue.pending.removeFirst(group.count)
                if group.isEmpty { queue.running = false }
                return group
            }
            guard !group.isEmpty else { return }
            await commit(group)
        }
    }

    /// Runs `group` in one transaction and answers each request.
    private func commit(_ group: [WriteRequest]) async {
        let sql = writerSQL
        if !group[0].transactional {
            do {
                try await group[0].run(sql)
                group[0].finish(nil)
            } catch {
                group[0].finish(error)
            }
            return
        }
        let synchronous = group.contains { $0.durability == .durable } ? "FULL" : "NORMAL"
        var outcomes: [(any Error)?] = Array(repeating: nil, count: group.count)
        do {
            if queue.withLock({ $0.synchronous }) != synchronous {
                try await sql.raw("PRAGMA synchronous = \(unsafeRaw: synchronous)").run()
                queue.withLock { $0.synchronous = synchronous }
            }
            try await sql.raw("BEGIN IMMEDIATE").run()
        } catch {
            for request in group { request.finish(error) }
            return
        }
        if group.count == 1 {
            do {
                try await group[0].run(sql)
            } catch {
                try? await sql.raw("ROLLBACK").run()
                group[0].finish(error)
                return
            }
        } else {
            for (index, request) in group.enumerated() {
                do {
                    try await sql.raw("SAVEPOINT one_call").run()
                    do {
                        try await request.run(sql)
                        try await sql.raw("RELEASE one_call").run()
                    } catch {
                        try await sql.raw("ROLLBACK TO one_call").run()
                        try await sql.raw("RELEASE one_call").run()
                        outcomes[index] = error
                    }
                } catch {
                    // The savepoint itself failed: the connection is in trouble; give up the group.
                    try? await sql.raw("ROLLBACK").run()
                    for request in group { request.finish(error) }
                    return
                }
            }
        }
        do {
            try await sql.raw("COMMIT").run()
        } catch {
            try? await sql.raw("ROLLBACK").run()
            for request in group { request.finish(error) }
            return
        }
        for (request, outcome) in zip(group, outcomes) { request.finish(outcome) }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await body(readerSQL)
    }

    /// Another process on the same file tells nothing: its workers find new tasks by polling.
    func listen(_ deliver: @escaping @Sendable (StoreEvent) -> Void) {}

    func shutdown() async throws {
        for reader in readers { reader.close() }
        // Behind any transaction still queued: the writer's thread closes the connection, then stops.
        try await enqueue(durability: .deferred, transactional: false) { [writer] _ in writer.close() }
        thread.stop()
    }

    /// Rewrites the whole database and empties its write-ahead log, so that no old page (of rows
    /// since changed) stays in either file.
    func compact() async throws {
        try await enqueue(durability: .durable, transactional: false) { sql in
            try await sql.raw("VACUUM").run()
            try await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
        }
    }
}
