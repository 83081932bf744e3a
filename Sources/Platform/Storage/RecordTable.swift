import Foundation
import SQLKit

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
        var record = try JSONDecoder.records.decode(Record.self, from: Data(body.utf8))
        record.version = try row.decode(column: "version", as: Int.self)
        return record
    }

    /// Inserts a new record (version 1); false if its id is taken, also when another writer
    /// inserts the same id at the same moment (the database decides, not an earlier read).
    func insert(_ record: Record) async throws -> Bool {
        var stored = record
        stored.version = 1
        let columns = ["id", "version", "body"] + record.indexColumns.map(\.0)
        let values: [any SQLExpression] = [SQLBind(record.id), SQLBind(1), SQLBind(try Self.encode(stored))]
            + record.indexColumns.map { SQLBind($0.1) }
        let inserted = try await sql.insert(into: Record.table).columns(columns).values(values)
            .ignoringConflicts(with: "id").returning("id").all()
        return !inserted.isEmpty
    }

    /// The record `id`, if any.
    func get(_ id: String) async throws -> Record? {
        guard let row = try await sql.select().columns("body", "version").from(Record.table)
            .where("id", .equal, id).first()
        else { return nil }
        return try Self.decode(row)
    }

    /// Records where `column` = `value` (every record without a condition), in id order.
    func list(where column: String? = nil, equals value: (any Encodable & Sendable)? = nil) async throws -> [Record] {
        var query = sql.select().columns("body", "version").from(Record.table)
        if let column, let value { query = query.where(SQLColumn(column), .equal, SQLBind(value)) }
        return try await query.orderBy("id").all().map(Self.decode)
    }

    /// Records whose ids are in `ids`.
    func list(ids: [String]) async throws -> [Record] {
        guard !ids.isEmpty else { return [] }
        return try await sql.select().columns("body", "version").from(Record.table)
            .where("id", .in, ids).orderBy("id").all().map(Self.decode)
    }

    /// Writes `record` if the stored version is still `record.version`; the record as written
    /// (its version one higher), or nil if someone else wrote it first.
    func update(_ record: Record) async throws -> Record? {
        var next = record
        next.version = record.version + 1
        var query = sql.update(Record.table)
            .set("version", to: next.version)
            .set("body", to: try Self.encode(next))
        for (column, value) in record.indexColumns { query = query.set(SQLColumn(column), to: SQLBind(value)) }
        let rows = try await query.where("id", .equal, record.id).where("version", .equal, record.version)
            .returning("id").all()
        return rows.isEmpty ? nil : next
    }

    /// Reads `id`, applies `change` and writes it back, again if another writer came first.
    /// `change` returns false to leave the record as it is. Nil if there is no record `id`.
    func modify(_ id: String, _ change: (inout Record) throws -> Bool) async throws -> Record? {
        while true {
            guard var record = try await get(id) else { return nil }
            guard try change(&record) else { return record }
            if let written = try await update(record) { return written }
        }
    }

    /// Deletes the record `id`.
    func delete(_ id: String) async throws {
        try await sql.delete(from: Record.table).where("id", .equal, id).run()
    }
}

extension JSONEncoder {
    /// The encoder of stored bodies (sorted keys, dates as seconds since 1970).
    static var records: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .secondsSince1970
        return encoder
    }
}

extension JSONDecoder {
    /// The decoder of stored bodies.
    static var records: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return decoder
    }
}

/// Wall-clock time as the tables store it.
enum Clock {
    /// Milliseconds since 1970.
    static func milliseconds(_ date: Date = Date()) -> Int {
        Int((date.timeIntervalSince1970 * 1000).rounded())
    }
}
