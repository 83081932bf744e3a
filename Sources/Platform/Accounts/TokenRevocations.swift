import Foundation
import SQLKit

/// The tokens a logout ended, by their `jti`, kept until they would have expired anyway (then
/// dropped: an expired token fails on its own).
struct TokenRevocations: Sendable {
    let sql: any SQLDatabase

    func revoke(_ jti: String, expiresAt: Int) async throws {
        try await sql.delete(from: "revoked_tokens").where("expires_at", .lessThan, Int(Date().timeIntervalSince1970)).run()
        try await sql.insert(into: "revoked_tokens").columns("jti", "expires_at")
            .values(SQLBind(jti), SQLBind(expiresAt)).ignoringConflicts(with: "jti").run()
    }

    func isRevoked(_ jti: String) async throws -> Bool {
        try await sql.select().column("jti").from("revoked_tokens").where("jti", .equal, jti).first() != nil
    }
}
