import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit

/// The platform's database: every table behind SQLKit, so the same portable SQL runs on the
/// embedded SQLite default and on a server database (PostgreSQL) later.
///
/// Open it with ``openSQLite(at:logger:)``; ``migrate()`` brings the schema up to date.
public final class PlatformDatabase: Sendable {
    /// The SQL database every query goes through.
    public let sql: any SQLDatabase
    private let close: @Sendable () async throws -> Void

    /// A database over `sql`; `close` releases its connection.
    public init(sql: any SQLDatabase, close: @escaping @Sendable () async throws -> Void) {
        self.sql = sql
        self.close = close
    }

    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    ///
    /// The connection waits up to 10 s for a lock another process holds (a `cloister worker`
    /// beside `cloister serve`), and the journal is a write-ahead log, so a crash loses nothing
    /// committed.
    public static func openSQLite(at path: String, logger: Logger = Logger(label: "cloister.db")) async throws -> PlatformDatabase {
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let sql = connection.sql()
        do {
            try await sql.raw("PRAGMA busy_timeout = 10000").run()
            try await sql.raw("PRAGMA journal_mode = WAL").run()
            try await sql.raw("PRAGMA synchronous = FULL").run()
            let database = PlatformDatabase(sql: sql) { try await connection.close() }
            try await database.migrate()
            return database
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// Applies every migration not applied yet, in order.
    public func migrate() async throws {
        try await Migrations.apply(to: sql)
    }

    /// Closes the connection.
    public func shutdown() async throws {
        try await close()
    }
}
