import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresKit
import SQLKit
import Synchronization

/// A PostgreSQL server shared by any number of API servers and workers.
///
/// Each write transaction runs on a connection of the pool (`BEGIN` … `COMMIT`, isolation READ
/// COMMITTED, rows locked with `SELECT … FOR UPDATE` where a call reads and then writes them) and
/// is run again, up to five times, when PostgreSQL reports a serialization failure or a deadlock.
///
/// **Commit policy.** A durable transaction commits with `synchronous_commit = on` (the server's
/// default: the commit is in the flushed WAL before the call returns), a deferred one with
/// `SET LOCAL synchronous_commit = off`. PostgreSQL flushes the WAL of concurrent commits together
/// (its group commit), so many callers share one flush under load.
///
/// **Notifications.** A committed transaction's events are `NOTIFY cloister_events` (sent in the
/// transaction, delivered at its commit); every process keeps one connection that `LISTEN`s and
/// hands them to its workers, and reconnects (then wakes its workers once, for what it missed) when
/// that connection drops.
final class PostgresBackend: DatabaseBackend {
    let kind = DatabaseKind.postgres
    private let client: PostgresClient
    private let connection: PostgresConnection.Configuration
    private let logger: Logger
    private let running: Task<Void, Never>
    private let listener = Mutex<Task<Void, Never>?>(nil)
    /// The connection that listens, closed at shutdown (which ends its notification sequence).
    private let listening = Mutex<PostgresConnection?>(nil)

    private init(client: PostgresClient, connection: PostgresConnection.Configuration, logger: Logger) {
        self.client = client
        self.connection = connection
        self.logger = logger
        running = Task { await client.run() }
    }

    /// How long, in milliseconds, a transaction may wait for its process's next statement.
    static let idleInTransactionLimit = 60_000

    /// Connects to the server at `url` (checked with one query).
    static func open(url: String, maxConnections: Int = 20, logger: Logger) async throws -> PostgresBackend {
        let parsed: SQLPostgresConfiguration
        do {
            parsed = try SQLPostgresConfiguration(url: url)
        } catch {
            throw PlatformSetupError("\(DatabaseLocation.redact(url)) is not a PostgreSQL URL this version understands")
        }
        var core = parsed.coreConfiguration
        guard let host = core.host, let port = core.port else {
            throw PlatformSetupError("\(DatabaseLocation.redact(url)): give a host (postgres://user:password@host:port/database)")
        }
        let mode = URLComponents(string: url)?.queryItems?
            .last(where: { ["sslmode", "tlsmode"].contains($0.name.lowercased()) })?.value?.lowercased() ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable":
            tls = .disable
            core.tls = .disable
        case "require":
            tls = .require(.makeClientConfiguration())
        default:
            tls = .prefer(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: core.username, password: core.password, database: core.database, tls: tls)
        configuration.options.maximumConnections = maxConnections
        configuration.options.minimumConnections = 0
        // A process that stops inside a transaction (frozen, or hung) would keep its row locks for
        // as long as its connection lives, and a lost worker's task could never be taken over:
        // PostgreSQL ends a session left idle inside a transaction this long, which rolls it back.
        configuration.options.additionalStartupParameters = [("idle_in_transaction_session_timeout", "\(idleInTransactionLimit)")]
        let backend = PostgresBackend(
            client: PostgresClient(configuration: configuration, backgroundLogger: logger), connection: core, logger: logger)
        do {
            try await backend.read { sql in try await sql.raw("SELECT 1").run() }
        } catch {
            try? await backend.shutdown()
            throw PlatformSetupError("cannot reach the database \(DatabaseLocation.redact(url)): \(String(reflecting: error))")
        }
        return backend
    }

    func write<T: Sendable>(
        durability: Durability, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await client.withConnection { connection in
                    let sql = connection.sql(queryLogLevel: nil)
                    try await sql.raw("BEGIN").run()
                    do {
                        if durability == .deferred { try await sql.raw("SET LOCAL synchronous_commit = off").run() }
                        let value = try await body(sql)
                        try await sql.raw("COMMIT").run()
                        return value
                    } catch {
                        try? await sql.raw("ROLLBACK").run()
                        throw error
                    }
                }
            } catch where attempt < 5 && Self.isRetryable(error) {
                attempt += 1
                try await Task.sleep(for: .milliseconds(Int.random(in: 1...(5 * attempt))))
            }
        }
    }

    /// Whether PostgreSQL asks for the transaction to be run again: a serialization failure
    /// (40001), a deadlock (40P01), or a compare-and-swap lost inside it.
    static func isRetryable(_ error: any Error) -> Bool {
        if error is WriteConflict { return true }
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state == "40001" || state == "40P01"
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await client.withConnection { connection in try await body(connection.sql(queryLogLevel: nil)) }
    }

    func listen(_ deliver: @escaping @Sendable (StoreEvent) -> Void) {
        let configuration = connection
        let logger = logger
        let task = Task {
            var connectionID = 1
            while !Task.isCancelled {
                do {
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration, id: connectionID, logger: logger)
                    connectionID += 1
                    listening.withLock { $0 = connection }
                    // What was published while no connection listened: workers look once.
                    deliver(.queued)
                    do {
                        try await connection.listen(on: StoreEvent.channel) { notifications in
                            for try await notification in notifications {
                                if let event = StoreEvent(payload: notification.payload) { deliver(event) }
                            }
                        }
                    } catch {
                        if !Task.isCancelled { logger.warning("database notifications: \(error); reconnecting") }
                    }
                    listening.withLock { $0 = nil }
                    try? await connection.close()
                } catch {
                    if !Task.isCancelled { logger.warning("database notifications: cannot connect: \(error)") }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        listener.withLock { $0 = task }
    }

    func shutdown() async throws {
        listener.withLock { $0 }?.cancel()
        if let connection = listening.withLock({ $0 }) { try? await connection.close() }
        await listener.withLock { $0 }?.value
        running.cancel()
        await running.value
    }
}
