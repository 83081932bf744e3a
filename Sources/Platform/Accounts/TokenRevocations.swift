import Foundation
import SQLKit

/// The tokens a logout ended, by their `jti`, kept until they would have expired anyway (then
/// dropped: an expired token fails on its own).
enum TokenRevocations {
    static func revoke(_ jti: String, expiresAt: Int, in transaction: Transaction) async throws {
        try await transaction.sql.delete(from: "revoked_tokens").where("expires_at", .lessThan, Int(Date().timeIntervalSince1970)).run()
        try await transaction.sql.insert(into: "revoked_tokens").columns("jti", "expires_at")
            .values(SQLBind(jti), SQLBind(expiresAt)).ignoringConflicts(with: "jti").run()
    }

    static func isRevoked(_ jti: String, _ sql: any SQLDatabase) async throws -> Bool {
        let statement = CachedStatement("revoked_tokens.get", on: sql, binds: [jti]) { sql, values in
            sql.select().column("jti").from("revoked_tokens").where(SQLColumn("jti"), .equal, values[0]).query
        }
        return try await !statement.rows(on: sql).isEmpty
    }
}
