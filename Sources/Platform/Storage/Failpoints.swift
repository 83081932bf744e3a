import Foundation
import Logging
import NIOCore
import SQLKit
import Synchronization

/// Crash injection for the storage layer: makes the `statement`-th statement of the next
/// transaction whose label matches throw (the transaction is rolled back) or kill the process
/// (SIGKILL, as a power cut would, minus the lost page cache). Position `n + 1` of a transaction of
/// `n` statements is its commit. Tests use it to show that a call stopped between any two of its
/// statements leaves nothing half-written.
///
/// In-process tests arm it with ``arm(label:statement:action:)``; a `cloister serve` or `worker`
/// process reads `CLOISTER_FAILPOINT=<label>:<statement>:<throw|kill>` once at start (`*` matches
/// every label). Unarmed, it costs one lock per statement.
public final class Failpoints: Sendable {
    /// What an armed failpoint does.
    public enum Action: String, Sendable {
        case `throw`
        case kill
    }

    private struct Armed {
        var label: String
        var statement: Int
        var action: Action
    }

    private let armed = Mutex<Armed?>(nil)
    /// How many failpoints fired (for tests).
    private let fired = Atomic<Int>(0)

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        if let text = environment["CLOISTER_FAILPOINT"] {
            let parts = text.split(separator: ":").map(String.init)
            if parts.count == 3, let statement = Int(parts[1]), let action = Action(rawValue: parts[2]) {
                armed.withLock { $0 = Armed(label: parts[0], statement: statement, action: action) }
            }
        }
    }

    /// Arms the failpoint: the next transaction labelled `label` (`*`: any) stops before its
    /// `statement`-th statement (1-based; one past the last is the commit).
    public func arm(label: String, statement: Int, action: Action = .throw) {
        armed.withLock { $0 = Armed(label: label, statement: statement, action: action) }
    }

    /// Disarms it.
    public func disarm() {
        armed.withLock { $0 = nil }
    }

    /// How many times a failpoint fired since the platform opened.
    public var firedCount: Int { fired.load(ordering: .sequentiallyConsistent) }

    /// The counter of one transaction.
    func counter(label: String) -> Counter {
        Counter(label: label, failpoints: self)
    }

    /// Called before statement `index` of a transaction labelled `label`.
    fileprivate func check(label: String, index: Int) throws(InjectedFailure) {
        let action: Action? = armed.withLock { state in
            guard let current = state, current.label == "*" || current.label == label, current.statement == index else { return nil }
            state = nil
            return current.action
        }
        guard let action else { return }
        fired.add(1, ordering: .sequentiallyConsistent)
        switch action {
        case .throw:
            throw InjectedFailure(label: label, statement: index)
        case .kill:
            kill(getpid(), SIGKILL)
            // SIGKILL cannot be caught; nothing after it runs.
            throw InjectedFailure(label: label, statement: index)
        }
    }

    /// Counts the statements of one transaction.
    final class Counter: Sendable {
        let label: String
        let failpoints: Failpoints
        private let count = Atomic<Int>(0)

        init(label: String, failpoints: Failpoints) {
            self.label = label
            self.failpoints = failpoints
        }

        /// Counts one more statement (or the commit) and fires an armed failpoint at its position.
        func step() throws(InjectedFailure) {
            let index = count.add(1, ordering: .sequentiallyConsistent).newValue
            try failpoints.check(label: label, index: index)
        }
    }
}

/// A transaction stopped by an armed failpoint.
public struct InjectedFailure: Error, CustomStringConvertible {
    public let label: String
    public let statement: Int
    public var description: String { "injected failure before statement \(statement) of \(label)" }
}

/// The connection of one transaction, counting its statements for ``Failpoints``.
struct CountingSQLDatabase: SQLDatabase {
    let base: any SQLDatabase
    let counter: Failpoints.Counter

    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }
    var queryLogLevel: Logger.Level? { base.queryLogLevel }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        do {
            try counter.step()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        return base.execute(sql: query, onRow)
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try counter.step()
        try await base.execute(sql: query, onRow)
    }
}
