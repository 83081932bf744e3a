import Crypto
import Foundation
import SQLKit

/// The platform's own keys, kept in the database (`platform_secrets`) wrapped by the KEK, so that
/// every server and worker sharing the database and the KEK shares them: the fingerprint key of
/// `DataKeys`, and the key that signs login tokens (a token one server signed works on any other).
enum PlatformSecrets {
    /// The 32-byte key `name`: unwrapped from the database, or created (from `initial` when given:
    /// a key file of an older version) and stored. Opening it also proves that `kek` is the
    /// database's KEK.
    static func key(_ name: String, in database: PlatformDatabase, kek: any KeyEncryptionKey, initial: [UInt8]? = nil) async throws -> [UInt8] {
        if let stored = try await stored(name, in: database) {
            do {
                return try await kek.unwrap(stored, context: name)
            } catch {
                throw PlatformSetupError("the key-encryption key \(kek.identifier) does not open this database's keys: \(error)")
            }
        }
        let key = initial ?? SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let wrapped = try await kek.wrap(key, context: name)
        try await database.write("platform.secret") { transaction in
            try await transaction.sql.insert(into: "platform_secrets").columns("name", "value")
                .values(SQLBind(name), SQLBind(wrapped)).ignoringConflicts(with: "name").run()
        }
        // Another process may have stored one first: use the one stored.
        return try await self.key(name, in: database, kek: kek)
    }

    private static func stored(_ name: String, in database: PlatformDatabase) async throws -> String? {
        try await database.read { sql in
            try await sql.select().column("value").from("platform_secrets").where("name", .equal, name)
                .first(decodingColumn: "value", as: String.self)
        }
    }
}
