import CloisterAPI
import Foundation
import SQLKit

/// The figures of `GET /metrics`, in Prometheus' text exposition format (version 0.0.4).
///
/// Every figure is read from the database when it is asked for, not counted in this process: any
/// API server answers for the whole platform (every server and worker sharing the database), and a
/// restart loses nothing. That is also why the format is written here by hand rather than with
/// swift-prometheus, whose registry holds counters a process increments itself: four families need
/// no more than a few lines of text.
///
/// - `cloister_tasks{state}`: tasks in each state (a gauge);
/// - `cloister_queue_depth`: tasks waiting for a worker (`Staged`);
/// - `cloister_task_latency_seconds`: from invoke to the end of the run, over every task that
///   finished or failed after it was queued (a histogram);
/// - `cloister_workers`, `cloister_worker_slots`: the worker pools seen in the last
///   `2 × staleAfter` seconds, and the tasks they run at once.
public struct PlatformMetrics: Sendable {
    let database: PlatformDatabase
    let staleAfter: TimeInterval

    /// The upper bounds of the latency histogram's buckets, in seconds.
    static let buckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300]

    /// The Content-Type of the text.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    /// The figures as Prometheus' text format.
    public func render() async throws -> String {
        let staleAfter = staleAfter
        let (states, latency, workers) = try await database.read { sql in
            (try await Self.states(sql), try await Self.latency(sql), try await Self.workers(sql, seenWithin: Int(staleAfter * 2000)))
        }
        var text = ""
        text += "# HELP cloister_tasks Tasks by state.\n# TYPE cloister_tasks gauge\n"
        for state in TaskState.allCases {
            text += "cloister_tasks{state=\"\(state.rawValue)\"} \(states[state.rawValue] ?? 0)\n"
        }
        text += "# HELP cloister_queue_depth Tasks waiting for a worker (Staged).\n# TYPE cloister_queue_depth gauge\n"
        text += "cloister_queue_depth \(states[TaskState.staged.rawValue] ?? 0)\n"
        text += "# HELP cloister_task_latency_seconds Time from invoke to the end of the run, of tasks that finished or failed.\n"
        text += "# TYPE cloister_task_latency_seconds histogram\n"
        for (bound, count) in zip(Self.buckets, latency.buckets) {
            text += "cloister_task_latency_seconds_bucket{le=\"\(Self.number(bound))\"} \(count)\n"
        }
        text += "cloister_task_latency_seconds_bucket{le=\"+Inf\"} \(latency.count)\n"
        text += "cloister_task_latency_seconds_sum \(Self.number(Double(latency.totalMilliseconds) / 1000))\n"
        text += "cloister_task_latency_seconds_count \(latency.count)\n"
        text += "# HELP cloister_workers Worker pools seen recently.\n# TYPE cloister_workers gauge\n"
        text += "cloister_workers \(workers.pools)\n"
        text += "# HELP cloister_worker_slots Tasks the worker pools seen recently run at once.\n# TYPE cloister_worker_slots gauge\n"
        text += "cloister_worker_slots \(workers.slots)\n"
        return text
    }

    private static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    private static func states(_ sql: any SQLDatabase) async throws -> [String: Int] {
        var result: [String: Int] = [:]
        for row in try await sql.raw("SELECT state, COUNT(*) AS count FROM tasks GROUP BY state").all() {
            result[try row.decode(column: "state", as: String.self)] = try row.decode(column: "count", as: Int.self)
        }
        return result
    }

    private static func latency(_ sql: any SQLDatabase) async throws -> (buckets: [Int], count: Int, totalMilliseconds: Int) {
        var query = SQLQueryString("SELECT CAST(COUNT(*) AS BIGINT) AS count, CAST(COALESCE(SUM(ended_at - queued_at), 0) AS BIGINT) AS total")
        for (index, bound) in buckets.enumerated() {
            query.appendInterpolation(
                unsafeRaw: ", CAST(COALESCE(SUM(CASE WHEN ended_at - queued_at <= \(Int(bound * 1000)) THEN 1 ELSE 0 END), 0) AS BIGINT) AS b\(index)")
        }
        query.appendInterpolation(
            unsafeRaw: " FROM tasks WHERE state IN ('Finished', 'Failed') AND queued_at IS NOT NULL AND ended_at IS NOT NULL")
        guard let row = try await sql.raw(query).first() else { return (buckets.map { _ in 0 }, 0, 0) }
        return (
            try buckets.indices.map { try row.decode(column: "b\($0)", as: Int.self) },
            try row.decode(column: "count", as: Int.self), try row.decode(column: "total", as: Int.self)
        )
    }

    private static func workers(_ sql: any SQLDatabase, seenWithin: Int) async throws -> (pools: Int, slots: Int) {
        let query: SQLQueryString = """
            SELECT CAST(COUNT(*) AS BIGINT) AS pools, CAST(COALESCE(SUM(slots), 0) AS BIGINT) AS slots \
            FROM workers WHERE seen_at >= \(DatabaseNow(offset: -seenWithin))
            """
        guard let row = try await sql.raw(query).first() else { return (0, 0) }
        return (try row.decode(column: "pools", as: Int.self), try row.decode(column: "slots", as: Int.self))
    }
}
