import Foundation
import SQLKit
import Synchronization

/// The database's own clock in milliseconds since 1970, plus `offset` milliseconds: what leases,
/// queue times and end times are measured in, so that hosts whose clocks differ agree on when a
/// lease runs out. On SQLite (one host) it is this process's clock.
struct DatabaseNow: SQLExpression {
    var offset: Int = 0

    func serialize(to serializer: inout SQLSerializer) {
        if serializer.dialect.name == "postgresql" {
            serializer.write("(CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) + ")
            serializer.write(bind: offset)
            serializer.write(")")
        } else {
            serializer.write(bind: Clock.milliseconds() + offset)
        }
    }
}

/// `FOR UPDATE` (optionally `SKIP LOCKED`) on PostgreSQL: the rows read are locked until the
/// transaction ends. Nothing on SQLite, where a write transaction already holds the whole database.
struct LockForUpdate: SQLExpression {
    var skipLocked = false

    func serialize(to serializer: inout SQLSerializer) {
        guard serializer.dialect.name == "postgresql" else { return }
        serializer.write(skipLocked ? "FOR UPDATE SKIP LOCKED" : "FOR UPDATE")
    }
}

/// Wall-clock time as the tables store it.
enum Clock {
    /// Milliseconds since 1970.
    static func milliseconds(_ date: Date = Date()) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }
}

/// A statement whose SQL text is made once per shape and dialect, then run again with new binds.
///
/// SQLKit's serializer walks a tree of expressions, quoting every identifier, for each statement it
/// runs: a quarter of the SQLite writer's time went there. The statements every call runs (reading
/// and writing a record, appending to the audit log) are serialized once; later ones of the same
/// shape only carry their binds.
struct CachedStatement: SQLExpression {
    let text: String
    let binds: [any Encodable & Sendable]

    /// The statement `shape` names (the same name, the same SQL apart from its binds) with `binds`;
    /// `build` makes it from bind expressions, in the order the binds are given, the first time.
    init(
        _ shape: String, on sql: any SQLDatabase, binds: [any Encodable & Sendable],
        build: (any SQLDatabase, [any SQLExpression]) -> any SQLExpression
    ) {
        let key = sql.dialect.name + "|" + shape
        self.binds = binds
        if let text = cachedTexts.withLock({ $0[key] }) {
            self.text = text
            return
        }
        let (text, made) = sql.serialize(build(sql, binds.map { SQLBind($0) }))
        precondition(made.count == binds.count, "statement \(shape) takes its binds in the order given")
        cachedTexts.withLock { $0[key] = text }
        self.text = text
    }

    /// A statement whose binds never change for its `shape` either (a worker pool's claim, over its
    /// capabilities): serialized once, text and binds.
    init(constant shape: String, on sql: any SQLDatabase, build: (any SQLDatabase) -> any SQLExpression) {
        let key = sql.dialect.name + "|" + shape
        if let known = cachedConstants.withLock({ $0[key] }) {
            (text, binds) = known
            return
        }
        (text, binds) = sql.serialize(build(sql))
        cachedConstants.withLock { $0[key] = (text, binds) }
    }

    func serialize(to serializer: inout SQLSerializer) {
        serializer.write(text)
        serializer.binds.append(contentsOf: binds)
    }

    /// Runs the statement on `sql`, discarding any rows.
    func run(on sql: any SQLDatabase) async throws {
        try await sql.execute(sql: self) { _ in }
    }

    /// Runs the statement on `sql` and returns its rows.
    func rows(on sql: any SQLDatabase) async throws -> [any SQLRow] {
        let collected = CollectedRows()
        try await sql.execute(sql: self) { row in collected.rows.withLock { $0.append(row) } }
        return collected.rows.withLock { $0 }
    }
}

/// The SQL text of each statement shape, by dialect.
private let cachedTexts = Mutex<[String: String]>([:])

/// The SQL text and binds of each constant statement, by dialect.
private let cachedConstants = Mutex<[String: (String, [any Encodable & Sendable])]>([:])

/// Rows handed over one at a time, possibly from another thread.
private final class CollectedRows: Sendable {
    let rows = Mutex<[any SQLRow]>([])
}
