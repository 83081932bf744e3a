import Foundation
import SQLKit
import Synchronization

/// Which database engine a ``PlatformDatabase`` runs on.
public enum DatabaseKind: String, Sendable {
    case sqlite
    case postgres
}

/// How a transaction's commit reaches the disk.
enum Durability: Sendable {
    /// The commit is on disk (fsync'd, or in PostgreSQL's flushed WAL) before the call returns: what
    /// every call that changes state and answers a client uses. Nothing acknowledged is lost.
    case durable
    /// The commit is written but flushed with the next durable one (SQLite `synchronous = NORMAL`,
    /// PostgreSQL `synchronous_commit = off`): survives a crash of the process, not a power cut.
    /// For writes nobody is told about — a worker's claim and heartbeats, the audit entries of reads.
    case deferred
}

/// What a committed transaction tells the processes that share the database.
public enum StoreEvent: Sendable, Equatable {
    /// A task was queued (or queued again): idle workers look for it.
    case queued
    /// A task was canceled: the worker that runs it stops it.
    case canceled(taskId: String)
    /// A task's state changed: the calls waiting on it (`TaskService.get(_:_:waitingUpTo:whileStateIn:)`) answer.
    case changed(taskId: String)

    /// The payload of the PostgreSQL notification.
    var payload: String {
        switch self {
        case .queued: return "queued"
        case .canceled(let id): return "cancel:" + id
        case .changed(let id): return "changed:" + id
        }
    }

    init?(payload: String) {
        if payload == "queued" {
            self = .queued
        } else if payload.hasPrefix("cancel:") {
            self = .canceled(taskId: String(payload.dropFirst("cancel:".count)))
        } else if payload.hasPrefix("changed:") {
            self = .changed(taskId: String(payload.dropFirst("changed:".count)))
        } else {
            return nil
        }
    }

    /// The PostgreSQL channel the events go through.
    static let channel = "cloister_events"
}

/// One transaction: every statement of one API call (or one step of a worker) runs through its
/// `sql`, and the whole commits or nothing does.
///
/// The transaction owns the writes every call shares: its audit entries (``audit(user:action:object:allowed:detail:)``,
/// through `AuditLog.append`), the receipts of the tasks it ends (``issue(_:)``) — both buffered and
/// written last, linked into their chains (`AuditChain.seal`) — and the events other processes hear
/// about once it commits (``publish(_:)``).
struct Transaction: Sendable {
    /// The connection, inside `BEGIN` … `COMMIT`. Never used after the body returns.
    let sql: any SQLDatabase
    let kind: DatabaseKind
    let pending: PendingWrites

    init(sql: any SQLDatabase, kind: DatabaseKind) {
        self.sql = sql
        self.kind = kind
        pending = PendingWrites()
    }

    /// The events published so far (delivered in this process after the commit).
    var events: [StoreEvent] { pending.events.withLock { $0 } }

    /// Tells every process about `event` once (and only if) the transaction commits: in this
    /// process directly, in others through PostgreSQL's `NOTIFY`, which PostgreSQL delivers at commit.
    func publish(_ event: StoreEvent) async throws {
        pending.events.withLock { $0.append(event) }
        if kind == .postgres {
            try await sql.raw("SELECT pg_notify(\(bind: StoreEvent.channel), \(bind: event.payload))").run()
        }
    }

    /// Appends an audit entry: that `user` asked for `action` on `object`, and whether it was allowed.
    func audit(user: String, action: String, object: String = "", allowed: Bool, detail: String = "") async throws {
        AuditLog.append(AuditLog.Entry(user: user, action: action, object: object, allowed: allowed, detail: detail), in: self)
    }

    /// Issues `receipt` when the transaction commits (signed, and linked after the receipt before
    /// it and the audit entries of this transaction).
    func issue(_ receipt: PendingReceipt) {
        pending.receipts.withLock { $0.append(receipt) }
    }

    var users: RecordTable<UserRecord> { RecordTable(sql: sql) }
    var functions: RecordTable<FunctionRecord> { RecordTable(sql: sql) }
    var files: RecordTable<FileRecord> { RecordTable(sql: sql) }
    var tasks: RecordTable<TaskRecord> { RecordTable(sql: sql) }
}

/// What one transaction writes last (its audit entries and receipts) or announces after its commit
/// (its events).
final class PendingWrites: Sendable {
    let events = Mutex<[StoreEvent]>([])
    let audit = Mutex<[AuditChain.Fields]>([])
    let receipts = Mutex<[PendingReceipt]>([])

    /// The audit entries and receipts, which are then written.
    func take() -> ([AuditChain.Fields], [PendingReceipt]) {
        (audit.withLock { entries in defer { entries = [] }; return entries },
         receipts.withLock { receipts in defer { receipts = [] }; return receipts })
    }
}

/// Delivers committed events to the subscribers of this process.
final class EventHub: Sendable {
    private let subscribers = Mutex<[UUID: @Sendable (StoreEvent) -> Void]>([:])

    /// Calls `handler` with every event from now on, until the returned token is cancelled.
    func subscribe(_ handler: @escaping @Sendable (StoreEvent) -> Void) -> UUID {
        let id = UUID()
        subscribers.withLock { $0[id] = handler }
        return id
    }

    func unsubscribe(_ id: UUID) {
        _ = subscribers.withLock { $0.removeValue(forKey: id) }
    }

    func deliver(_ events: [StoreEvent]) {
        guard !events.isEmpty else { return }
        let handlers = subscribers.withLock { Array($0.values) }
        for event in events {
            for handler in handlers { handler(event) }
        }
    }
}

/// A compare-and-swap lost to another writer inside a transaction that took no row lock: the
/// transaction is rolled back and run again (PostgreSQL), or a bug (SQLite, where the writer is alone).
struct WriteConflict: Error, CustomStringConvertible {
    let table: String
    let id: String
    var description: String { "\(table) \(id) was changed by another writer" }
}
