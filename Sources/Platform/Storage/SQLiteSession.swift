import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import SQLiteNIO

/// SQLKit over one or more ``SQLiteHandle``s: a statement is serialized in SQLite's dialect, its
/// binds encoded as SQLiteKit encodes them, and run at once on the calling thread.
///
/// The writer's session has one handle; the readers' session several, each statement running on one
/// of them at random (any of them sees every committed transaction).
struct SQLiteSession: SQLDatabase {
    let handles: [SQLiteHandle]
    let logger: Logger
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var dialect: any SQLDialect { SQLiteDialect() }
    var queryLogLevel: Logger.Level? { nil }
    private let encoder = SQLiteDataEncoder()
    private let decoder = SQLiteDataDecoder()

    init(handles: [SQLiteHandle], logger: Logger) {
        precondition(!handles.isEmpty)
        self.handles = handles
        self.logger = logger
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        do {
            try run(query, onRow)
            return eventLoop.makeSucceededVoidFuture()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try run(query, onRow)
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        // A statement whose text is known as it is (a cached shape, raw SQL) skips SQLKit's serializer.
        let (sql, binds): (String, [any Encodable & Sendable])
        if let cached = query as? CachedStatement {
            (sql, binds) = (cached.text, cached.binds)
        } else if let raw = query as? SQLRaw, raw.binds.isEmpty {
            (sql, binds) = (raw.sql, [])
        } else {
            (sql, binds) = serialize(query)
        }
        let values = try binds.map { try encoder.encode($0) }
        try handle.run(sql, values) { row in onRow(SQLiteResultRow(row: row, decoder: decoder)) }
    }

    /// The handle for the next statement: the only one, or one of the readers.
    private var handle: SQLiteHandle {
        handles.count == 1 ? handles[0] : handles[Int.random(in: 0..<handles.count)]
    }
}

/// A row as SQLKit reads it, its values decoded as SQLiteKit decodes them.
private struct SQLiteResultRow: SQLRow {
    let row: SQLiteRowValues
    let decoder: SQLiteDataDecoder

    var allColumns: [String] { row.columns }

    func contains(column: String) -> Bool { row.columns.contains(column) }

    func decodeNil(column: String) throws -> Bool {
        guard let value = value(column) else { return true }
        if case .null = value { return true }
        return false
    }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let value = value(column) else { throw MissingColumn(column: column) }
        return try decoder.decode(D.self, from: value)
    }

    private func value(_ column: String) -> SQLiteData? {
        row.columns.firstIndex(of: column).map { row.values[$0] }
    }
}

/// A row has no column of the name asked for.
private struct MissingColumn: Error, CustomStringConvertible {
    let column: String
    var description: String { "no column \(column) in the row" }
}
