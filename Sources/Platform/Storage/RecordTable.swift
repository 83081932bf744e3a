import Foundation
import SQLKit
import Synchronization

/// A record kept as a JSON body in a table of `id`, `version`, `body` and index columns.
protocol StoredRecord: Codable, Sendable {
    /// The table's name.
    static var table: String { get }
    var id: String { get }
    /// The version read from the table (0 for a record never stored).
    var version: Int { get set }
    /// The index columns and their values (beside id, version and body).
    var indexColumns: [(String, any Encodable & Sendable)] { get }
}

/// Reads and writes one kind of `StoredRecord`. Updates are compare-and-swap on `version`:
/// a writer that lost a race gets `nil` and reads again.
struct RecordTable<Record: StoredRecord>: Sendable {
    let sql: any SQLDatabase

    private static func encode(_ record: Record) throws -> String {
        String(decoding: try JSONEncoder.records.encode(record), as: UTF8.self)
    }

    private static func decode(_ row: any SQLRow) throws -> Record {
        let body = try row.decode(column: "body", as: String.self)
        let key = Record.table + "/" + (try row.decode(column: "id", as: String.self))
        var record: Record
        if let known = DecodedRecords.shared.record(key, body: body) as? Record {
            record = known
        } else {
            record = try JSONDecoder.records.decode(Record.self, from: Data(body.utf8))
            DecodedRecords.shared.remember(record, key, body: body)
        }
        record.version = try row.decode(column: "version", as: Int.self)
        return record
    }

    /// Inserts a new record (version 1); false if its id is taken, also when another writer
    /// inserts the same id at the same moment (the database decides, not an earlier read).
    func insert(_ record: Record) async throws -> Bool {
        var stored = record
        stored.version = 1
        let indexColumns = record.indexColumns
        let columns = ["id", "version", "body"] + indexColumns.map(\.0)
        let body = try Self.encode(stored)
        let binds: [any Encodable & Sendable] = [record.id, 1, body] + indexColumns.map(\.1)
        let statement = CachedStatement("\(Record.table).insert", on: sql, binds: binds) { sql, values in
            sql.insert(into: Record.table).columns(columns).values(values).ignoringConflicts(with: "id").returning("id").query
        }
        guard try await !statement.rows(on: sql).isEmpty else { return false }
        DecodedRecords.shared.remember(stored, Record.table + "/" + record.id, body: body)
        return true
    }

    /// The record `id`, if any. With `lock`, its row stays locked (PostgreSQL `FOR UPDATE`) until
    /// the transaction ends: what a read that is followed by a write of the same record takes.
    func get(_ id: String, lock: Bool = false) async throws -> Record? {
        let statement = CachedStatement("\(Record.table).get.\(lock)", on: sql, binds: [id]) { sql, values in
            var query = sql.select().columns("id", "body", "version").from(Record.table).where(SQLColumn("id"), .equal, values[0])
            if lock { query = query.lockingClause(LockForUpdate()) }
            return query.query
        }
        guard let row = try await statement.rows(on: sql).first else { return nil }
        return try Self.decode(row)
    }

    /// Records where `column` = `value` (every record without a condition), in id order.
    func list(where column: String? = nil, equals value: (any Encodable & Sendable)? = nil) async throws -> [Record] {
        var query = sql.select().columns("id", "body", "version").from(Record.table)
        if let column, let value { query = query.where(SQLColumn(column), .equal, SQLBind(value)) }
        return try await query.orderBy("id").all().map(Self.decode)
    }

    /// Records whose ids are in `ids`.
    func list(ids: [String]) async throws -> [Record] {
        guard !ids.isEmpty else { return [] }
        return try await sql.select().columns("id", "body", "version").from(Record.table)
            .where("id", .in, ids).orderBy("id").all().map(Self.decode)
    }

    /// Writes `record` (and `columns`, beside its index columns) if the stored version is still
    /// `record.version`; the record as written, its version one higher. Another writer having come
    /// first is a `WriteConflict`: inside a transaction that read the record with `lock`, it cannot
    /// happen.
    @discardableResult
    func update(_ record: Record, setting columns: [(String, any SQLExpression)] = []) async throws -> Record {
        var next = record
        next.version = record.version + 1
        let body = try Self.encode(next)
        let rows: [any SQLRow]
        if columns.isEmpty {
            let indexColumns = record.indexColumns
            let binds: [any Encodable & Sendable] = [next.version, body] + indexColumns.map(\.1) + [record.id, record.version]
            let statement = CachedStatement("\(Record.table).update", on: sql, binds: binds) { sql, values in
                let query = sql.update(Record.table).set(SQLColumn("version"), to: values[0]).set(SQLColumn("body"), to: values[1])
                for (index, (column, _)) in indexColumns.enumerated() { _ = query.set(SQLColumn(column), to: values[2 + index]) }
                let id: any SQLExpression = values[values.count - 2]
                let version: any SQLExpression = values[values.count - 1]
                return query.where(SQLColumn("id"), .equal, id).where(SQLColumn("version"), .equal, version).returning("id").query
            }
            rows = try await statement.rows(on: sql)
        } else {
            var query = sql.update(Record.table)
                .set("version", to: next.version)
                .set("body", to: body)
            for (column, value) in record.indexColumns { query = query.set(SQLColumn(column), to: SQLBind(value)) }
            for (column, value) in columns { query = query.set(SQLColumn(column), to: value) }
            rows = try await query.where("id", .equal, record.id).where("version", .equal, record.version).returning("id").all()
        }
        guard !rows.isEmpty else { throw WriteConflict(table: Record.table, id: record.id) }
        DecodedRecords.shared.remember(next, Record.table + "/" + record.id, body: body)
        return next
    }

    /// Reads `id` (locked), applies `change` and writes it back. `change` returns false to leave
    /// the record as it is. Nil if there is no record `id`.
    @discardableResult
    func modify(_ id: String, _ change: (inout Record) throws -> Bool) async throws -> Record? {
        guard var record = try await get(id, lock: true) else { return nil }
        guard try change(&record) else { return record }
        return try await update(record)
    }

    /// Deletes the record `id`.
    func delete(_ id: String) async throws {
        try await sql.delete(from: Record.table).where("id", .equal, id).run()
    }
}

extension JSONEncoder {
    /// The encoder of stored bodies (sorted keys, dates as seconds since 1970): one, shared (its
    /// options never change after this).
    static let records: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }()
}

extension JSONDecoder {
    /// The decoder of stored bodies: one, shared.
    static let records: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }()
}

/// Records lately decoded from their JSON bodies, by table and id, with the body each came from.
///
/// Every call reads its caller's user record and most read a task, often the same rows as the call
/// before; Foundation's JSON decoder was a tenth of the platform's time. A row read again whose
/// body is byte for byte the one remembered is the same record, so it is not decoded again (the
/// body is compared, not trusted: a changed row, or a row of another database with the same id,
/// is decoded afresh). At most `limit` records (then forgotten at once).
final class DecodedRecords: Sendable {
    static let shared = DecodedRecords()
    private let records = Mutex<[String: (body: String, record: any Sendable)]>([:])
    private let limit = 4096

    func record(_ key: String, body: String) -> (any Sendable)? {
        records.withLock { records in
            guard let known = records[key], known.body == body else { return nil }
            return known.record
        }
    }

    func remember(_ record: any Sendable, _ key: String, body: String) {
        records.withLock { records in
            if records.count >= limit { records = [:] }
            records[key] = (body, record)
        }
    }
}
