import CloisterAPI
import Foundation
import Logging
import SQLKit

/// The audit log: every state change and every access decision, in the database.
public struct AuditLog: Sendable {
    let sql: any SQLDatabase
    let logger: Logger

    /// Records that `user` asked for `action` on `object` and whether it was allowed.
    /// A failure to write the entry is logged, never thrown: the call it describes has happened.
    ///
    /// Every field is bounded and has its control characters escaped (`Self.clean`), so that no
    /// caller can grow the log by more than a few kilobytes per entry or make one entry read as two.
    func record(user: String, action: String, object: String = "", allowed: Bool, detail: String = "") async {
        do {
            try await sql.insert(into: "audit")
                .columns("time", "user_id", "action", "object", "decision", "detail")
                .values(
                    SQLBind(Clock.milliseconds()), SQLBind(Self.clean(user, limit: 128)), SQLBind(Self.clean(action, limit: 64)),
                    SQLBind(Self.clean(object, limit: 256)), SQLBind(allowed ? "allowed" : "denied"),
                    SQLBind(Self.clean(detail, limit: 2000)))
                .run()
        } catch {
            logger.error("audit: could not record \(action) by \(user) on \(object): \(error)")
        }
    }

    /// `text` cut to at most `limit` bytes of UTF-8 (on a character boundary, marked with `…`), with
    /// every control character and line or paragraph separator written as `\u{…}`.
    static func clean(_ text: String, limit: Int) -> String {
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

    /// Records the outcome of `body`: allowed when it returns, denied (with the reason) when it
    /// throws a `PlatformError`. `created` names the object a successful call made (its id).
    func decision<T>(
        user: String, action: String, object: String = "", created: ((T) -> String)? = nil, _ body: () async throws -> T
    ) async throws -> T {
        do {
            let value = try await body()
            if let created {
                await record(user: user, action: action, object: created(value), allowed: true, detail: object)
            } else {
                await record(user: user, action: action, object: object, allowed: true)
            }
            return value
        } catch let error as PlatformError {
            await record(user: user, action: action, object: object, allowed: false, detail: error.description)
            throw error
        }
    }

    /// Entries, newest first, optionally only those of `user` or on `object`.
    func entries(user: String?, object: String?, limit: Int) async throws -> [AuditEntry] {
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
