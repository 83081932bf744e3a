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
    ///
    /// The file is created 0600 before SQLite opens it (SQLite gives its `-wal` and `-shm` files
    /// the database's mode), and an existing one is made 0600, whatever the umask. Deleted content
    /// is overwritten with zeros (`secure_delete`), so what a row held does not linger in free pages.
    public static func openSQLite(at path: String, logger: Logger = Logger(label: "cloister.db")) async throws -> PlatformDatabase {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PlatformSetupError("cannot open \(path): \(String(cString: strerror(errno)))") }
        let restricted = fchmod(fd, 0o600) == 0
        Glibc.close(fd)
        guard restricted else { throw PlatformSetupError("cannot make \(path) private (chmod 0600)") }
        for suffix in ["-wal", "-shm", "-journal"] { chmod(path + suffix, 0o600) }
        let connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        let sql = connection.sql()
        do {
            try await sql.raw("PRAGMA secure_delete = ON").run()
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

    /// Rewrites the whole database and empties its write-ahead log, so that no old page (of
    /// rows since changed) stays in either file.
    func compact() async throws {
        try await sql.raw("VACUUM").run()
        try await sql.raw("PRAGMA wal_checkpoint(TRUNCATE)").run()
    }

    /// Closes the connection.
    public func shutdown() async throws {
        try await close()
    }
}
