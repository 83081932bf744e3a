import Foundation
import SQLKit

/// The schema, as an ordered list of migrations. Each runs once; `schema_migrations` records
/// which ran. Built with SQLKit's schema builders, so the SQL fits each database's dialect.
///
/// Objects are rows of `id`, `version` (optimistic concurrency), a JSON `body` and the few
/// columns queries select on; `file_owners` and `task_participants` index who may see what.
enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let name: String
        let apply: @Sendable (any SQLDatabase) async throws -> Void
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "initial schema") { sql in
            try await sql.create(table: "users").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("version", type: .bigint, .notNull)
                .column("registered_by", type: .text)
                .column("body", type: .text, .notNull)
                .run()
            try await sql.create(table: "functions").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("version", type: .bigint, .notNull)
                .column("owner", type: .text, .notNull)
                .column("body", type: .text, .notNull)
                .run()
            try await sql.create(table: "payloads").ifNotExists()
                .column("function_id", type: .text, .primaryKey(autoIncrement: false))
                .column("payload", type: .blob, .notNull)
                .run()
            try await sql.create(table: "files").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("version", type: .bigint, .notNull)
                .column("kind", type: .text, .notNull)
                .column("body", type: .text, .notNull)
                .run()
            try await sql.create(table: "file_owners").ifNotExists()
                .column("file_id", type: .text, .notNull)
                .column("user_id", type: .text, .notNull)
                .primaryKey("file_id", "user_id")
                .run()
            try await sql.create(table: "tasks").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("version", type: .bigint, .notNull)
                .column("state", type: .text, .notNull)
                .column("function_id", type: .text, .notNull)
                .column("queued_at", type: .bigint)
                .column("heartbeat_at", type: .bigint)
                .column("body", type: .text, .notNull)
                .run()
            try await sql.create(index: "tasks_by_state").on("tasks").column("state").column("queued_at").run()
            try await sql.create(index: "tasks_by_function").on("tasks").column("function_id").run()
            try await sql.create(table: "task_participants").ifNotExists()
                .column("task_id", type: .text, .notNull)
                .column("user_id", type: .text, .notNull)
                .primaryKey("task_id", "user_id")
                .run()
            try await sql.create(index: "participants_by_user").on("task_participants").column("user_id").run()
            try await sql.create(table: "audit").ifNotExists()
                .column("id", type: .bigint, .primaryKey(autoIncrement: true))
                .column("time", type: .bigint, .notNull)
                .column("user_id", type: .text, .notNull)
                .column("action", type: .text, .notNull)
                .column("object", type: .text, .notNull)
                .column("decision", type: .text, .notNull)
                .column("detail", type: .text, .notNull)
                .run()
        },
        Migration(version: 2, name: "wrapped data keys, key uses, revoked tokens") { sql in
            // Secrets the platform keeps wrapped by its key-encryption key (`fingerprint_key`).
            try await sql.create(table: "platform_secrets").ifNotExists()
                .column("name", type: .text, .primaryKey(autoIncrement: false))
                .column("value", type: .text, .notNull)
                .run()
            // Every (key, IV) pair of an aes-gcm file, by a keyed fingerprint, and the file it belongs to.
            try await sql.create(table: "key_uses").ifNotExists()
                .column("fingerprint", type: .text, .primaryKey(autoIncrement: false))
                .column("file_id", type: .text, .notNull)
                .run()
            // Tokens ended by a logout, kept until they would have expired anyway.
            try await sql.create(table: "revoked_tokens").ifNotExists()
                .column("jti", type: .text, .primaryKey(autoIncrement: false))
                .column("expires_at", type: .bigint, .notNull)
                .run()
        },
    ]

    static func apply(to sql: any SQLDatabase) async throws {
        try await sql.create(table: "schema_migrations").ifNotExists()
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("applied_at", type: .bigint, .notNull)
            .run()
        let applied = Set(try await sql.select().column("version").from("schema_migrations")
            .all(decodingColumn: "version", as: Int.self))
        for migration in all where !applied.contains(migration.version) {
            try await migration.apply(sql)
            try await sql.insert(into: "schema_migrations")
                .columns("version", "name", "applied_at")
                .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Clock.milliseconds()))
                .run()
        }
    }
}
