import Foundation
import SQLKit

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
