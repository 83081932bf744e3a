import Foundation
import Logging
import SQLKit

/// The platform's database: every table behind SQLKit, on the embedded SQLite default or on a
/// PostgreSQL server, with one way to change it — a transaction (``write(_:durability:_:)``).
///
/// Every API call runs in exactly one transaction (its statements, its audit entry and the events
/// it publishes commit together or not at all); so does every step of a worker. Reads that change
/// nothing and need no audit entry use ``read(_:)``.
///
/// Open it with ``open(_:logger:)``; ``migrate()`` brings the schema up to date (once, by one
/// process, whatever else runs at the same moment).
public final class PlatformDatabase: Sendable {
    /// Which engine it runs on.
    public let kind: DatabaseKind
    /// Where it is (the password of a URL redacted in `description`).
    public let location: DatabaseLocation
    /// Crash injection (tests).
    public let failpoints: Failpoints
    let backend: any DatabaseBackend
    let events = EventHub()

    private init(kind: DatabaseKind, location: DatabaseLocation, backend: any DatabaseBackend, failpoints: Failpoints) {
        self.kind = kind
        self.location = location
        self.backend = backend
        self.failpoints = failpoints
    }

    /// Opens the database at `location` (an SQLite file is created if missing; a PostgreSQL
    /// database must exist). The schema is not touched: call ``migrate()`` (a server) or
    /// ``checkSchema()`` (a worker).
    public static func open(_ location: DatabaseLocation, logger: Logger = Logger(label: "cloister.db")) async throws -> PlatformDatabase {
        let backend: any DatabaseBackend
        switch location {
        case .sqlite(let path): backend = try await SQLiteBackend.open(path: path, logger: logger)
        case .postgres(let url): backend = try await PostgresBackend.open(url: url, logger: logger)
        }
        let database = PlatformDatabase(kind: backend.kind, location: location, backend: backend, failpoints: Failpoints())
        backend.listen { [events = database.events] event in events.deliver([event]) }
        return database
    }

    /// Runs `body` in one transaction labelled `label` (for ``Failpoints``), committed with
    /// `durability`; the events it published are delivered once it committed.
    func write<T: Sendable>(
        _ label: String, durability: Durability = .durable, _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        let kind = kind
        let failpoints = failpoints
        let (value, published) = try await backend.write(durability: durability) { sql -> (T, [StoreEvent]) in
            let counter = failpoints.counter(label: label)
            let transaction = Transaction(sql: CountingSQLDatabase(base: sql, counter: counter), kind: kind)
            let value = try await body(transaction)
            try await AuditChain.seal(transaction)
            try counter.step()  // the commit's position
            return (value, transaction.events)
        }
        events.deliver(published)
        return value
    }

    /// Runs `body` outside any transaction, on a connection that sees every committed one.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await backend.read(body)
    }

    /// The record `id` as last committed, read outside any transaction.
    func record<Record: StoredRecord>(_ type: Record.Type, _ id: String) async throws -> Record? {
        try await read { sql in try await RecordTable<Record>(sql: sql).get(id) }
    }

    /// Calls `handler` with every event committed from now on, by this process or (on PostgreSQL)
    /// any other.
    func subscribe(_ handler: @escaping @Sendable (StoreEvent) -> Void) -> UUID {
        events.subscribe(handler)
    }

    func unsubscribe(_ id: UUID) {
        events.unsubscribe(id)
    }

    /// Applies every migration not applied yet, in order, in one transaction that one process at a
    /// time may hold (PostgreSQL: an advisory lock; SQLite: the write lock). A server started beside
    /// others that are migrating waits for them and then finds nothing to do.
    public func migrate() async throws {
        try await write("migrate") { transaction in try await Migrations.apply(in: transaction) }
    }

    /// The schema version this version of Cloister brings a database to.
    public static var schemaVersion: Int { Migrations.latest }

    /// Fails unless the schema is exactly the one this version knows (a worker never migrates: it
    /// waits for a server, or `cloister migrate`, to do it).
    public func checkSchema() async throws {
        let current = try await read { sql in try await Migrations.currentVersion(sql) }
        let known = Migrations.latest
        if current < known {
            throw PlatformSetupError(
                "the database \(location) has schema version \(current), this cloister needs \(known): start `cloister serve` (or run `cloister migrate`) on it first")
        }
        if current > known {
            throw PlatformSetupError(
                "the database \(location) has schema version \(current), newer than this cloister knows (\(known)): upgrade this cloister")
        }
    }

    /// Rewrites the whole database and empties its write-ahead log, so that no old page (of rows
    /// since changed) stays in either file (SQLite; PostgreSQL's own VACUUM is the operator's).
    func compact() async throws {
        if let sqlite = backend as? SQLiteBackend { try await sqlite.compact() }
    }

    /// Closes every connection.
    public func shutdown() async throws {
        try await backend.shutdown()
    }
}
