import CloisterAPI
import Foundation
import SQLKit

/// The task queue, kept in the tasks table: invoked tasks are `Staged`, oldest `queued_at` first; a
/// worker slot claims one it can run by moving it to `Running` under its name with a lease, renews
/// the lease with heartbeats and records how the run ended. Every move goes through
/// `TaskLifecycle.apply`, each in a transaction of its own.
///
/// Claims lock the row they take and skip rows another claim holds (`FOR UPDATE SKIP LOCKED` on
/// PostgreSQL; on SQLite the write transaction holds the whole database), so two workers never
/// claim one task and neither waits for the other. A lease that runs out (its worker stopped, or
/// lost its connection) is settled by whichever pool sees it first: the task runs again, up to
/// `maxAttempts` times. A worker whose lease was taken cannot record a result: `complete` checks
/// the attempt it holds.
struct TaskQueue: Sendable {
    let database: PlatformDatabase
    /// How long a claim or heartbeat holds the task, in milliseconds.
    let lease: Int
    /// How many claims a task gets before a run out of lease fails it.
    let maxAttempts: Int
    /// The platform's key: it signs the receipt of a task whose worker was lost on every attempt.
    let signer: SigningIdentity

    /// Claims the oldest staged task that one of `capabilities` runs, or nil when none waits.
    func claim(worker: String, capabilities: [WorkerCapability]) async throws -> TaskRecord? {
        guard !capabilities.isEmpty else { return nil }
        let lease = lease
        return try await database.write("task.claim", durability: .deferred) { transaction in
            let statement = CachedStatement(constant: "tasks.claim|" + capabilities.map(\.description).joined(separator: "|"), on: transaction.sql) { sql in
                sql.select().column("id").from("tasks")
                    .where("state", .equal, TaskState.staged.rawValue)
                    .where(WorkerCapability.filter(capabilities))
                    .orderBy("queued_at").orderBy("id").limit(1)
                    .lockingClause(LockForUpdate(skipLocked: true)).query
            }
            let candidate = try await statement.rows(on: transaction.sql).first?.decode(column: "id", as: String.self)
            guard let id = candidate else { return nil }
            return try await TaskLifecycle.apply(.claimed(worker: worker, lease: lease), to: id, in: transaction)
        }
    }

    /// Renews `worker`'s lease on attempt `attempt` of task `id`: one statement, no record rewritten.
    /// False when the worker holds it no more (it was canceled, or its lease ran out and the task
    /// was settled or taken over since).
    func heartbeat(_ id: String, worker: String, attempt: Int) async throws -> Bool {
        let lease = lease
        return try await database.write("task.heartbeat", durability: .deferred) { transaction in
            try await !transaction.sql.update("tasks").set("lease_until", to: DatabaseNow(offset: lease))
                .where("id", .equal, id).where("state", .equal, TaskState.running.rawValue)
                .where("worker", .equal, worker).where("attempt", .equal, attempt)
                .returning("id").all().isEmpty
        }
    }

    /// Records how attempt `attempt` ended: the result, the outputs' tags (`delivery`: where each
    /// written output waits to be moved into place) and the final state, together. The task as
    /// written (`Finished`, or `Failed` — also when an output turned out to be written by another
    /// task first); `LeaseLost` when the worker no longer holds the attempt. `signer`, the worker's
    /// identity (nil: the platform's key), signs the task's receipt, which names what the worker
    /// measured (`evidence`).
    func complete(
        _ id: String, worker: String, attempt: Int, result: TaskResult, failure: String?, delivery: [String: String],
        evidence: RunEvidence = RunEvidence(), signer: SigningIdentity? = nil
    ) async throws -> TaskRecord {
        let signer = signer ?? self.signer
        return try await database.write("task.complete") { transaction in
            try await TaskLifecycle.apply(
                .completed(
                    worker: worker, attempt: attempt, result: result, failure: failure, delivery: delivery, evidence: evidence, signer: signer),
                to: id, in: transaction)
        }
    }

    /// Settles the running tasks whose lease ran out: each runs again, or fails after
    /// `maxAttempts`. How many it settled.
    func recoverExpired() async throws -> Int {
        let maxAttempts = maxAttempts
        let signer = signer
        return try await database.write("task.recover") { transaction in
            let ids = try await transaction.sql.select().column("id").from("tasks")
                .where("state", .equal, TaskState.running.rawValue)
                .where(SQLGroupExpression(SQLBinaryExpression(
                    SQLBinaryExpression(SQLColumn("lease_until"), .is, SQLLiteral.null), .or,
                    SQLBinaryExpression(SQLColumn("lease_until"), .lessThan, DatabaseNow()))))
                .orderBy("id").limit(100)
                .lockingClause(LockForUpdate(skipLocked: true))
                .all(decodingColumn: "id", as: String.self)
            for id in ids {
                try await TaskLifecycle.apply(.leaseExpired(maxAttempts: maxAttempts, signer: signer), to: id, in: transaction)
            }
            return ids.count
        }
    }

    /// Puts a task `worker` holds back in the queue (its pool is shutting down), not counting the attempt.
    func release(_ id: String, worker: String, attempt: Int) async throws {
        do {
            try await database.write("task.release") { transaction in
                try await TaskLifecycle.apply(.released(worker: worker, attempt: attempt), to: id, in: transaction)
            }
        } catch is LeaseLost {}
    }
}
