import Foundation
import NIOCore
import SQLiteNIO
import Synchronization
// The SQLite that SQLiteNIO vendors (its symbols prefixed `sqlite_nio_`): one copy of SQLite in
// the process, so that its POSIX-lock bookkeeping (one table of open files per process) sees every
// connection to the database file.
import VaporCSQLite

/// One SQLite connection whose statements run on the calling thread, each prepared once.
///
/// SQLiteNIO runs every statement on a thread pool and answers on an event loop: two thread hand-offs
/// per statement, and a fresh `prepare` each time. A call of the API runs a dozen statements, so the
/// hand-offs, not SQLite, were most of its time. Here a statement is a few microseconds of work on
/// the caller's thread (SQLite in WAL mode never makes a reader wait for the writer); what can wait
/// long — the writer's `BEGIN IMMEDIATE` behind another process, its `COMMIT`'s fsync — runs on the
/// writer's own thread (`SQLiteBackend`), never on Swift's cooperative pool.
///
/// The connection is used by one thread at a time (a lock around each statement); prepared
/// statements are kept by their text, up to `cacheLimit`.
final class SQLiteHandle: Sendable {
    /// The pointers are only touched under the lock.
    private struct State: ~Copyable, @unchecked Sendable {
        var connection: OpaquePointer?
        var statements: [String: OpaquePointer] = [:]
    }
    private let state: Mutex<State>
    /// The most prepared statements kept (queries with `IN (…)` lists of many lengths make more).
    private let cacheLimit = 256

    private init(connection: OpaquePointer) {
        state = Mutex(State(connection: connection))
    }

    /// Opens (creating if needed) the database file at `path`; a busy database is waited for up to
    /// `busyTimeoutMilliseconds`.
    static func open(path: String, busyTimeoutMilliseconds: Int32 = 10_000) throws(SQLiteFailure) -> SQLiteHandle {
        var connection: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let opened = sqlite_nio_sqlite3_open_v2(path, &connection, flags, nil)
        guard opened == SQLITE_OK, let connection else {
            let message = connection.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "cannot open"
            sqlite_nio_sqlite3_close(connection)
            throw SQLiteFailure(code: opened, message: "\(path): \(message)")
        }
        sqlite_nio_sqlite3_busy_timeout(connection, busyTimeoutMilliseconds)
        sqlite_nio_sqlite3_extended_result_codes(connection, 1)
        return SQLiteHandle(connection: connection)
    }

    /// Runs `sql` with `binds`, calling `onRow` with each row it returns.
    func run(_ sql: String, _ binds: [SQLiteData], _ onRow: (SQLiteRowValues) throws -> Void) throws {
        try state.withLock { state in
            guard let connection = state.connection else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
            let statement = try Self.prepared(sql, connection: connection, cache: &state.statements, limit: cacheLimit)
            defer {
                sqlite_nio_sqlite3_reset(statement)
                sqlite_nio_sqlite3_clear_bindings(statement)
            }
            for (index, bind) in binds.enumerated() {
                let code = Self.bind(bind, at: Int32(index + 1), to: statement)
                guard code == SQLITE_OK else { throw SQLiteFailure(code: code, connection: connection) }
            }
            var names: [String]?
            while true {
                let code = sqlite_nio_sqlite3_step(statement)
                if code == SQLITE_DONE { return }
                guard code == SQLITE_ROW else { throw SQLiteFailure(code: code, connection: connection) }
                let count = sqlite_nio_sqlite3_column_count(statement)
                if names == nil {
                    names = (0..<count).map { column in sqlite_nio_sqlite3_column_name(statement, column).map { String(cString: $0) } ?? "" }
                }
                try onRow(SQLiteRowValues(columns: names!, values: (0..<count).map { Self.value(of: statement, at: $0) }))
            }
        }
    }

    /// `BEGIN IMMEDIATE` without waiting: false, and no transaction, when another connection (of
    /// another process) holds the write lock. A caller that must not block its thread tries this
    /// first and leaves the wait to a thread that may block.
    func beginWithoutWaiting(busyTimeoutMilliseconds: Int32 = 10_000) throws -> Bool {
        try state.withLock { state in
            guard let connection = state.connection else { throw SQLiteFailure(code: SQLITE_MISUSE, message: "the connection is closed") }
            sqlite_nio_sqlite3_busy_timeout(connection, 0)
            defer { sqlite_nio_sqlite3_busy_timeout(connection, busyTimeoutMilliseconds) }
            let code = sqlite_nio_sqlite3_exec(connection, "BEGIN IMMEDIATE", nil, nil, nil)
            if code & 0xff == SQLITE_BUSY { return false }
            guard code == SQLITE_OK else { throw SQLiteFailure(code: code, connection: connection) }
            return true
        }
    }

    /// Finalizes every statement and closes the connection; later calls fail.
    func close() {
        state.withLock { state in
            for statement in state.statements.values { sqlite_nio_sqlite3_finalize(statement) }
            state.statements = [:]
            sqlite_nio_sqlite3_close_v2(state.connection)
            state.connection = nil
        }
    }

    private static func prepared(
        _ sql: String, connection: OpaquePointer, cache: inout [String: OpaquePointer], limit: Int
    ) throws(SQLiteFailure) -> OpaquePointer {
        if let statement = cache[sql] { return statement }
        if cache.count >= limit {
            for statement in cache.values { sqlite_nio_sqlite3_finalize(statement) }
            cache = [:]
        }
        var statement: OpaquePointer?
        let code = sqlite_nio_sqlite3_prepare_v3(connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else { throw SQLiteFailure(code: code, connection: connection) }
        cache[sql] = statement
        return statement
    }

    private static func bind(_ value: SQLiteData, at index: Int32, to statement: OpaquePointer) -> Int32 {
        switch value {
        case .integer(let integer): return sqlite_nio_sqlite3_bind_int64(statement, index, Int64(integer))
        case .float(let double): return sqlite_nio_sqlite3_bind_double(statement, index, double)
        case .null: return sqlite_nio_sqlite3_bind_null(statement, index)
        case .text(let text):
            return sqlite_nio_sqlite3_bind_text64(statement, index, text, UInt64(text.utf8.count), copyOnBind, UInt8(SQLITE_UTF8))
        case .blob(let buffer):
            return buffer.withUnsafeReadableBytes { bytes in
                sqlite_nio_sqlite3_bind_blob64(statement, index, bytes.baseAddress, UInt64(bytes.count), copyOnBind)
            }
        }
    }

    private static func value(of statement: OpaquePointer, at column: Int32) -> SQLiteData {
        switch sqlite_nio_sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER: return .integer(Int(sqlite_nio_sqlite3_column_int64(statement, column)))
        case SQLITE_FLOAT: return .float(sqlite_nio_sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            guard let text = sqlite_nio_sqlite3_column_text(statement, column) else { return .text("") }
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
        case SQLITE_BLOB:
            let count = Int(sqlite_nio_sqlite3_column_bytes(statement, column))
            guard let bytes = sqlite_nio_sqlite3_column_blob(statement, column), count > 0 else { return .blob(ByteBuffer()) }
            return .blob(ByteBuffer(bytes: UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }
}

/// One row of a result: its column names and values.
struct SQLiteRowValues: Sendable {
    let columns: [String]
    let values: [SQLiteData]
}

/// An error SQLite returned, with its (extended) result code.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    init(code: Int32, message: String) {
        self.code = code
        self.message = message
    }

    init(code: Int32, connection: OpaquePointer) {
        self.code = code
        message = sqlite_nio_sqlite3_errmsg(connection).map { String(cString: $0) } ?? "SQLite error \(code)"
    }

    var description: String { "SQLite error \(code): \(message)" }
}

/// `SQLITE_TRANSIENT`: SQLite copies a bound text or blob before the bind returns.
private let copyOnBind = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
