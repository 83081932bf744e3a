import CloisterAPI
import CloisterClient
import Foundation
import Testing

/// Issue 20, item 12 and the concurrent registration of item 15: exactly one of many concurrent
/// invokes succeeds (the task runs once, the quota is charged once), and concurrent registrations
/// of one id answer one 201 and 409s, never a 500.
@Suite("Security: races on invoke and registration")
struct TaskRaceTests {
    @Test("concurrent invokes: exactly one succeeds per task, each task runs once, the quota counts each task once")
    func oneInvokeWins() async throws {
        try await TestServer.with(workers: 2) { server in
            let (admin, owner, user) = try await server.client.standardUsers()
            let function = try await owner.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")],
                usageQuota: 1000))
            let tasks = 12, callers = 6
            for _ in 0..<tasks {
                let task = try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
                #expect(task.state == .approved)
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<callers { group.addTask { try await user.send(.POST, "/v1/tasks/\(task.id)/invoke").status } }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
                #expect(statuses.filter { $0 == 409 }.count == callers - 1, "\(statuses)")
                let done = try await user.waitForTask(task.id)
                #expect(done.state == .finished)
                #expect(try await SecurityFixtures.claims(of: task.id, admin: admin) == 1)
            }
            #expect(try await owner.functionUsage(function.id).invocations == tasks)
        }
    }

    @Test("concurrent registrations of one user id: one 201, the rest 409, no 500")
    func concurrentRegistration() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            for round in 0..<5 {
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<10 {
                        group.addTask {
                            try await admin.send(.POST, "/v1/users", body: Data(#"{"id":"same-\#(round)","password":"password-1","role":"FunctionOwner"}"#.utf8)).status
                        }
                    }
                    return try await group.reduce(into: [Int]()) { $0.append($1) }
                }
                #expect(statuses.filter { $0 == 201 }.count == 1 && statuses.filter { $0 == 409 }.count == 9, "\(statuses)")
            }
        }
    }
}
