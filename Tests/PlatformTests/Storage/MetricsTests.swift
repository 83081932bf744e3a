import CloisterAPI
import CloisterClient
import Foundation
import Testing
@testable import Platform

/// `GET /metrics`: Prometheus' text format, for an admin's token or the operator's metrics token;
/// the figures (tasks by state, queue depth, latency histogram, workers) follow what happens.
@Suite("Storage: /metrics")
struct MetricsTests {
    static let metricsToken = "scraper-token-0123456789abcdef"

    /// The samples of a metrics text, by name with labels.
    static func samples(_ text: String) -> [String: Double] {
        var result: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            result[String(parts[0])] = value
        }
        return result
    }

    @Test("who may read it, its format, and figures that follow the tasks and the workers")
    func metrics() async throws {
        try await TestServer.with(workers: 2, server: .init(port: 0, metricsToken: Self.metricsToken)) { server in
            let (admin, owner, user) = try await server.client.standardUsers()
            // No token, a data owner's token, a wrong token: refused.
            #expect(try await server.client.send(.GET, "/metrics").status == 401)
            #expect(try await user.send(.GET, "/metrics").status == 403)
            #expect(try await server.client.send(.GET, "/metrics", token: "not-the-token-0123456789").status == 401)
            let function = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")]))
            for _ in 0..<3 {
                let task = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
                _ = try await user.invokeTask(task.id)
                #expect(try await user.waitForTask(task.id).state == .finished)
            }
            _ = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
            let scraped = try await server.client.send(.GET, "/metrics", token: Self.metricsToken)
            #expect(scraped.status == 200)
            let text = String(decoding: scraped.body, as: UTF8.self)
            #expect(text.contains("# TYPE cloister_tasks gauge"))
            #expect(text.contains("# TYPE cloister_task_latency_seconds histogram"))
            let samples = Self.samples(text)
            #expect(samples["cloister_tasks{state=\"Finished\"}"] == 3)
            #expect(samples["cloister_tasks{state=\"Approved\"}"] == 1)
            #expect(samples["cloister_tasks{state=\"Running\"}"] == 0)
            #expect(samples["cloister_queue_depth"] == 0)
            #expect(samples["cloister_task_latency_seconds_count"] == 3)
            #expect(samples["cloister_task_latency_seconds_bucket{le=\"+Inf\"}"] == 3)
            // Buckets are cumulative.
            let bounds = PlatformMetrics.buckets.map { samples["cloister_task_latency_seconds_bucket{le=\"\($0 == $0.rounded() ? String(Int($0)) : String($0))\"}"] ?? -1 }
            #expect(bounds.allSatisfy { $0 >= 0 && $0 <= 3 })
            #expect(zip(bounds, bounds.dropFirst()).allSatisfy { $0 <= $1 })
            #expect(samples["cloister_workers"] == 1 && samples["cloister_worker_slots"] == 2)
            // An admin's own token reads it too.
            #expect(try await admin.send(.GET, "/metrics").status == 200)
        }
    }
}
