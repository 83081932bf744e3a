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
        Migration(version: 3, name: "leases, worker capabilities, task engines") { sql in
            // The queue's columns: who holds a running task and until when (the database's clock),
            // which attempt it is, what it needs to run, and when it ended.
            for (column, type) in [
                ("worker", SQLDataType.text), ("lease_until", .bigint), ("executor_type", .text), ("executor", .text),
                ("engine", .text), ("ended_at", .bigint),
            ] {
                try await sql.alter(table: "tasks").column(column, type: type).run()
            }
            try await sql.alter(table: "tasks").column("attempt", type: .bigint, .notNull, .default(0)).run()
            try await sql.raw("ALTER TABLE tasks DROP COLUMN heartbeat_at").run()
            try await sql.create(index: "tasks_by_lease").on("tasks").column("state").column("lease_until").run()
            for row in try await sql.select().columns("id", "body").from("tasks").all() {
                let id = try row.decode(column: "id", as: String.self)
                let body = try row.decode(column: "body", as: String.self)
                let task = try JSONDecoder.records.decode(TaskRecord.self, from: Data(body.utf8))
                try await sql.update("tasks")
                    .set("executor_type", to: task.executorType).set("executor", to: task.executor)
                    .set("worker", to: task.worker).set("attempt", to: task.attempts)
                    .where("id", .equal, id).run()
            }
            // The worker pools alive: what each can run, and when it was last seen.
            try await sql.create(table: "workers").ifNotExists()
                .column("id", type: .text, .primaryKey(autoIncrement: false))
                .column("host", type: .text, .notNull)
                .column("pid", type: .bigint, .notNull)
                .column("slots", type: .bigint, .notNull)
                .column("capabilities", type: .text, .notNull)
                .column("started_at", type: .bigint, .notNull)
                .column("seen_at", type: .bigint, .notNull)
                .run()
        },
        Migration(version: 4, name: "audit hash chain, task receipts, worker keys") { sql in
            // Each audit entry's place in the chain (`AuditChain`): its sequence, the hash of the
            // entry before it and its own; the entries already there are chained in id order.
            for (column, type) in [("seq", SQLDataType.bigint), ("previous_sha256", .text), ("sha256", .text)] {
                try await sql.alter(table: "audit").column(column, type: type).run()
            }
            // The ends of the two chains, in one row that every writer locks in turn.
            try await sql.create(table: "audit_head").ifNotExists()
                .column("id", type: .bigint, .primaryKey(autoIncrement: false))
                .column("audit_seq", type: .bigint, .notNull)
                .column("audit_sha256", type: .text, .notNull)
                .column("receipt_seq", type: .bigint, .notNull)
                .column("receipt_sha256", type: .text)
                .run()
            try await AuditChain.chainExisting(sql)
            try await sql.create(index: "audit_by_seq").unique().on("audit").column("seq").run()
            // The signed receipt of every task that ended (`TaskReceipt`), as issued.
            try await sql.create(table: "receipts").ifNotExists()
                .column("task_id", type: .text, .primaryKey(autoIncrement: false))
                .column("seq", type: .bigint, .notNull, .unique)
                .column("sha256", type: .text, .notNull)
                .column("signer", type: .text, .notNull)
                .column("document", type: .text, .notNull)
                .run()
            // Every key that signs receipts, kept after its worker stops (`WorkerKeys`), and the key
            // each live pool runs with.
            try await sql.create(table: "worker_keys").ifNotExists()
                .column("key_id", type: .text, .primaryKey(autoIncrement: false))
                .column("kind", type: .text, .notNull)
                .column("public_key", type: .text, .notNull)
                .column("name", type: .text, .notNull)
                .column("registered_at", type: .bigint, .notNull)
                .column("seen_at", type: .bigint, .notNull)
                .run()
            try await sql.alter(table: "workers").column("key_id", type: .text).run()
        },
    ]

    /// The version the newest migration brings the schema to.
    static var latest: Int { all.last!.version }

    /// The highest migration applied to the database behind `sql` (0: none).
    static func currentVersion(_ sql: any SQLDatabase) async throws -> Int {
        let tables = try await tableNames(sql)
        guard tables.contains("schema_migrations") else { return 0 }
        let versions = try await sql.select().column("version").from("schema_migrations").all(decodingColumn: "version", as: Int.self)
        return versions.max() ?? 0
    }

    private static func tableNames(_ sql: any SQLDatabase) async throws -> Set<String> {
        if sql.dialect.name == "postgresql" {
            return Set(try await sql.raw("SELECT tablename AS name FROM pg_tables WHERE schemaname = current_schema()")
                .all(decodingColumn: "name", as: String.self))
        }
        return Set(try await sql.raw("SELECT name FROM sqlite_master WHERE type = 'table'").all(decodingColumn: "name", as: String.self))
    }

    /// Applies, inside `transaction`, every migration not applied yet. On PostgreSQL the
    /// transaction first takes an advisory lock, so that of several servers started at once one
    /// migrates and the others wait, then find nothing left to do.
    static func apply(in transaction: Transaction) async throws {
        let sql = transaction.sql
        if transaction.kind == .postgres {
            try await sql.raw("SELECT pg_advisory_xact_lock(\(bind: advisoryLock))").run()
        }
        try await sql.create(table: "schema_migrations").ifNotExists()
            .column("version", type: .bigint, .primaryKey(autoIncrement: false))
            .column("name", type: .text, .notNull)
            .column("applied_at", type: .bigint, .notNull)
            .run()
        let applied = Set(try await sql.select().column("version").from("schema_migrations")
            .all(decodingColumn: "version", as: Int.self))
        if let newest = applied.max(), newest > latest {
            throw PlatformSetupError("the database has schema version \(newest), newer than this cloister knows (\(latest)): upgrade this cloister")
        }
        for migration in all where !applied.contains(migration.version) {
            try await migration.apply(sql)
            try await sql.insert(into: "schema_migrations")
                .columns("version", "name", "applied_at")
                .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(Clock.milliseconds()))
                .run()
        }
    }

    /// The key of the advisory lock migrations hold on PostgreSQL ("cloister" in ASCII).
    static let advisoryLock: Int64 = 0x636c_6f69_7374_6572
}
