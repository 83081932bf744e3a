import CloisterAPI
import Foundation
import SQLKit

/// The keys that sign receipts, registered in `worker_keys` and kept there (a receipt outlives the
/// worker that signed it): every worker pool's identity key when it starts, the platform's when a
/// server or worker opens the platform. Published by `GET /v1/workers` and `GET /v1/attestation`.
struct WorkerKeys: Sendable {
    let database: PlatformDatabase

    /// Records `identity` under `name` (a pool's name, or `platform`); a key seen before keeps its
    /// first registration time and takes the newest name.
    func register(_ identity: SigningIdentity, name: String) async throws {
        try await database.write("worker.key") { transaction in
            try await transaction.sql.insert(into: "worker_keys")
                .columns("key_id", "kind", "public_key", "name", "registered_at", "seen_at")
                .values(
                    SQLBind(identity.keyId), SQLBind(identity.kind.rawValue), SQLBind(identity.publicKeyHex), SQLBind(name), DatabaseNow(),
                    DatabaseNow())
                .ignoringConflicts(with: "key_id").run()
            try await transaction.sql.update("worker_keys").set("name", to: name).set("seen_at", to: DatabaseNow())
                .where("key_id", .equal, identity.keyId).run()
        }
    }

    /// Every registered key of `kind` (all kinds when nil), oldest first; `active` when a pool
    /// running with it is in the `workers` table.
    func list(kind: SigningIdentity.Kind? = nil) async throws -> [WorkerKey] {
        try await database.read { sql in
            var query = sql.select().columns("key_id", "kind", "public_key", "name", "registered_at", "seen_at").from("worker_keys")
            if let kind { query = query.where("kind", .equal, kind.rawValue) }
            let active = Set(try await sql.select().column("key_id").from("workers").where("key_id", .isNot, SQLLiteral.null)
                .all(decodingColumn: "key_id", as: String.self))
            return try await query.orderBy("registered_at").orderBy("key_id").all().map { row in
                let keyId = try row.decode(column: "key_id", as: String.self)
                let kind = try row.decode(column: "kind", as: String.self)
                return WorkerKey(
                    keyId: keyId, kind: kind, publicKey: try row.decode(column: "public_key", as: String.self),
                    name: try row.decode(column: "name", as: String.self),
                    registeredAt: Date(timeIntervalSince1970: Double(try row.decode(column: "registered_at", as: Int.self)) / 1000),
                    lastSeenAt: Date(timeIntervalSince1970: Double(try row.decode(column: "seen_at", as: Int.self)) / 1000),
                    active: kind == SigningIdentity.Kind.platform.rawValue || active.contains(keyId))
            }
        }
    }
}
