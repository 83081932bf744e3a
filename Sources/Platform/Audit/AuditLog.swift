import CloisterAPI
import Foundation
import Logging
import SQLKit

/// The audit log: every state change and every access decision, in the database, written in the
/// same transaction as the change it records (``append(_:in:)`` is the one way in; the entries
/// are linked into the log's hash chain when the transaction commits, by `AuditChain.seal`).
public struct AuditLog: Sendable {
    let database: PlatformDatabase
    let logger: Logger

    /// One entry, before it is cleaned and stored.
    struct Entry: Sendable {
        var user: String
        var action: String
        var object: String = ""
        var allowed: Bool
        var detail: String = ""
    }

    /// Appends `entry` inside `transaction`: it commits with the change it describes, or not at all.
    /// It is written last, just before the commit, linked into the hash chain (`AuditChain.seal`).
    ///
    /// Every field is bounded and has its control characters escaped (`Self.clean`), so that no
    /// caller can grow the log by more than a few kilobytes per entry or make one entry read as two.
    static func append(_ entry: Entry, in transaction: Transaction) {
        let fields = AuditChain.Fields(
            time: Clock.milliseconds(), user: clean(entry.user, limit: 128), action: clean(entry.action, limit: 64),
            object: clean(entry.object, limit: 256), decision: entry.allowed ? "allowed" : "denied", detail: clean(entry.detail, limit: 2000))
        transaction.pending.audit.withLock { $0.append(fields) }
    }

    /// Records, in a transaction of its own, that `user` asked for `action` on `object` and whether
    /// it was allowed: for decisions made before any other write (a login, a refusal). A failure to
    /// write the entry is logged, never thrown: the call it describes has happened.
    func record(user: String, action: String, object: String = "", allowed: Bool, detail: String = "") async {
        do {
            try await database.write(action) { transaction in
                try await transaction.audit(user: user, action: action, object: object, allowed: allowed, detail: detail)
            }
        } catch {
            logger.error("audit: could not record \(action) by \(user) on \(object): \(error)")
        }
    }

    /// One API call: runs `body` in one transaction together with its `allowed` entry (`created`
    /// names the object a successful call made, `detail` adds what the entry must say of the
    /// result: what an approval covered). When `body` throws a `PlatformError` nothing it
    /// wrote stays, and the `denied` entry (with the reason) is written in a transaction of its own;
    /// any other error (the database failing) rolls everything back and is rethrown as it is.
    func call<T: Sendable>(
        user: String, action: String, object: String = "", created: (@Sendable (T) -> String)? = nil,
        detail: (@Sendable (T) -> String?)? = nil, durability: Durability = .durable,
        _ body: @escaping @Sendable (Transaction) async throws -> T
    ) async throws -> T {
        try await call(user: user, action: action, object: object, created: created, detail: detail, durability: durability, prepare: {}) { transaction, _ in
            try await body(transaction)
        }
    }

    /// As above, with the slow part of the call first, outside the transaction (checking a password,
    /// hashing one, wrapping a key, hashing a payload): `prepare` runs before the transaction opens,
    /// so the database is never held while it works, and its refusals are recorded like the body's.
    /// The body checks again whatever `prepare` read that may have changed since.
    func call<Prepared: Sendable, T: Sendable>(
        user: String, action: String, object: String = "", created: (@Sendable (T) -> String)? = nil,
        detail: (@Sendable (T) -> String?)? = nil, durability: Durability = .durable, prepare: () async throws -> Prepared,
        _ body: @escaping @Sendable (Transaction, Prepared) async throws -> T
    ) async throws -> T {
        do {
            let prepared = try await prepare()
            return try await database.write(action, durability: durability) { transaction in
                let value = try await body(transaction, prepared)
                let note = detail?(value)
                if let created {
                    let text = [object, note].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: "; ")
                    try await transaction.audit(user: user, action: action, object: created(value), allowed: true, detail: text)
                } else {
                    try await transaction.audit(user: user, action: action, object: object, allowed: true, detail: note ?? "")
                }
                return value
            }
        } catch let error as PlatformError {
            await record(user: user, action: action, object: object, allowed: false, detail: error.description)
            throw error
        }
    }

    /// `text` cut to at most `limit` bytes of UTF-8 (on a character boundary, marked with `…`), with
    /// every control character and line or paragraph separator written as `\u{…}`.
    static func clean(_ text: String, limit: Int) -> String {
        // Most entries are short printable ASCII (ids, actions, states): nothing to escape or cut.
        if text.utf8.count <= limit, text.utf8.allSatisfy({ (0x20..<0x7F).contains($0) }) { return text }
        var pieces: [String] = []
        var total = 0
        for scalar in text.unicodeScalars {
            let escape = scalar.properties.generalCategory == .control || scalar.value == 0x2028 || scalar.value == 0x2029
            let piece = escape ? "\\u{" + String(scalar.value, radix: 16) + "}" : String(scalar)
            pieces.append(piece)
            total += piece.utf8.count
            if total > limit { break }
        }
        guard total > limit else { return pieces.joined() }
        var result = ""
        for piece in pieces {
            guard result.utf8.count + piece.utf8.count <= limit - 3 else { break }
            result += piece
        }
        return result + "…"
    }

    /// Entries, newest first, optionally only those of `user` or on `object`.
    func entries(user: String?, object: String?, limit: Int) async throws -> [AuditEntry] {
        try await database.read { sql in try await Self.entries(sql, user: user, object: object, limit: limit) }
    }

    private static func entries(_ sql: any SQLDatabase, user: String?, object: String?, limit: Int) async throws -> [AuditEntry] {
        var query = sql.select().columns("id", "time", "user_id", "action", "object", "decision", "detail").from("audit")
        if let user { query = query.where("user_id", .equal, user) }
        if let object { query = query.where("object", .equal, object) }
        return try await query.orderBy("id", .descending).limit(limit).all().map { row in
            AuditEntry(
                id: try row.decode(column: "id", as: Int.self),
                time: Date(timeIntervalSince1970: Double(try row.decode(column: "time", as: Int.self)) / 1000),
                user: try row.decode(column: "user_id", as: String.self),
                action: try row.decode(column: "action", as: String.self),
                object: try row.decode(column: "object", as: String.self),
                decision: try row.decode(column: "decision", as: String.self),
                detail: try row.decode(column: "detail", as: String.self))
        }
    }
}
