import Foundation
import Logging

/// A throwaway PostgreSQL database, for the tests and `cloister bench-platform`: created empty on
/// the server a URL names, dropped (with whatever still connects to it) when done.
public enum ScratchDatabase {
    /// Creates a new, empty database on the server of `serverURL` (whose own database is used only
    /// to issue `CREATE DATABASE`); its URL.
    public static func create(on serverURL: String, prefix: String = "cloister_scratch") async throws -> String {
        guard var components = URLComponents(string: serverURL) else { throw PlatformSetupError("not a URL: \(DatabaseLocation.redact(serverURL))") }
        let name = prefix + "_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        try await run("CREATE DATABASE \(name)", on: serverURL)
        components.path = "/" + name
        return components.string!
    }

    /// Drops the database `url` names, connecting to `serverURL`'s database to do it.
    public static func drop(_ url: String, on serverURL: String) async throws {
        guard let name = URLComponents(string: url)?.path.dropFirst(), !name.isEmpty,
            name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
        else { return }
        try await run("DROP DATABASE IF EXISTS \(name) WITH (FORCE)", on: serverURL)
    }

    private static func run(_ statement: String, on url: String) async throws {
        var logger = Logger(label: "cloister.scratch")
        logger.logLevel = .warning
        let backend = try await PostgresBackend.open(url: url, maxConnections: 1, logger: logger)
        do {
            try await backend.read { sql in try await sql.raw("\(unsafeRaw: statement)").run() }
        } catch {
            try? await backend.shutdown()
            throw error
        }
        try await backend.shutdown()
    }
}
