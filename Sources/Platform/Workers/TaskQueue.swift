import CloisterAPI
import Foundation
import SQLKit

/// The task queue, kept in the tasks table: invoked tasks are `Staged` in `queued_at` order; a
/// worker claims one by moving it to `Running` under its name (a compare-and-swap, so two workers
/// never claim the same task), keeps a heartbeat on it and records how it ended.
struct TaskQueue: Sendable {
    let tasks: RecordTable<TaskRecord>
    let files: RecordTable<FileRecord>
    let sql: any SQLDatabase
    let audit: AuditLog

    /// Claims the oldest staged task for `worker`, or nil when none waits.
    func claim(worker: String) async throws -> TaskRecord? {
        while true {
            guard let id = try await sql.select().column("id").from("tasks").where("state", .equal, TaskState.staged.rawValue)
                .orderBy("queued_at").limit(1).first(decodingColumn: "id", as: String.self)
            else { return nil }
            var claimed = false
            let record = try await tasks.modify(id) { record in
                claimed = false
                guard record.state == .staged else { return false }
                record.state = .running
                record.worker = worker
                record.heartbeatAt = Date()
                record.startedAt = nil
                record.attempts += 1
                record.updatedAt = Date()
                claimed = true
                return true
            }
            if claimed, let record {
                await audit.record(user: "-", action: "task.state", object: id, allowed: true, detail: "Running on \(worker)")
                return record
            }
        }
    }

    /// Renews `worker`'s claim on task `id`; false when the worker holds it no more (it was
    /// canceled, or recovered from a worker thought lost, perhaps claimed by another since).
    func heartbeat(_ id: String, worker: String, started: Bool = false) async throws -> Bool {
        var held = false
        _ = try await tasks.modify(id) { record in
            held = record.state == .running && record.worker == worker
            guard held else { return false }
            record.heartbeatAt = Date()
            if started, record.startedAt == nil { record.startedAt = Date() }
            return true
        }
        return held
    }

    /// Records how the task ended, if `worker` still holds it. Output tags go to the output files.
    func complete(_ id: String, worker: String, result: TaskResult, failure: String?) async throws -> Bool {
        guard let current = try await tasks.get(id), current.state == .running, current.worker == worker else { return false }
        if failure == nil {
            for (name, tag) in result.outputTags {
                guard let fileId = current.assignedOutputs[name] else { continue }
                _ = try await files.modify(fileId) { file in
                    file.tag = tag
                    return true
                }
            }
        }
        var recorded = false
        _ = try await tasks.modify(id) { record in
            recorded = false
            guard record.state == .running, record.worker == worker else { return false }
            record.state = failure == nil ? .finished : .failed
            record.result = result
            record.reason = failure
            record.updatedAt = Date()
            recorded = true
            return true
        }
        if recorded {
            await audit.record(
                user: "-", action: "task.state", object: id, allowed: true,
                detail: failure.map { "Failed: \($0)" } ?? TaskState.finished.rawValue)
        }
        return recorded
    }

    /// Settles the running tasks whose worker has sent no heartbeat for `staleAfter` seconds: a
    /// task whose function had not started goes back to the queue once; any other fails with the reason.
    func recoverStale(after staleAfter: TimeInterval) async throws -> Int {
        let cutoff = Date().addingTimeInterval(-staleAfter)
        let ids = try await sql.select().column("id").from("tasks").where("state", .equal, TaskState.running.rawValue)
            .where("heartbeat_at", .lessThan, Clock.milliseconds(cutoff)).all(decodingColumn: "id", as: String.self)
        var settled = 0
        for id in ids {
            var outcome: String?
            _ = try await tasks.modify(id) { record in
                outcome = nil
                guard record.state == .running, let beat = record.heartbeatAt, beat < cutoff else { return false }
                if record.startedAt == nil, record.attempts < 2 {
                    outcome = "Staged: retried, its worker \(record.worker ?? "?") stopped before the function started"
                    record.state = .staged
                    record.worker = nil
                } else {
                    record.state = .failed
                    record.reason = "the worker running the task stopped (no heartbeat for \(Int(staleAfter)) s)"
                    outcome = "Failed: \(record.reason!)"
                }
                record.updatedAt = Date()
                return true
            }
            if let outcome {
                settled += 1
                await audit.record(user: "-", action: "task.state", object: id, allowed: true, detail: outcome)
            }
        }
        return settled
    }
}

extension TaskQueue {
    /// Puts a task `worker` holds back in the queue (its pool is shutting down).
    func release(_ id: String, worker: String) async throws {
        var released = false
        _ = try await tasks.modify(id) { record in
            released = false
            guard record.state == .running, record.worker == worker else { return false }
            record.state = .staged
            record.worker = nil
            record.startedAt = nil
            record.attempts = max(0, record.attempts - 1)
            record.updatedAt = Date()
            released = true
            return true
        }
        if released {
            await audit.record(user: "-", action: "task.state", object: id, allowed: true, detail: "Staged: requeued at shutdown")
        }
    }
}
