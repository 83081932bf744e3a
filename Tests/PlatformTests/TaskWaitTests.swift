import CloisterAPI
import CloisterClient
import Foundation
import Testing
@testable import Platform

/// `GET /v1/tasks/{id}?wait=…&state=…`: a client follows a task with one call per change of state
/// instead of polling.
@Suite("Following a task with long polls")
struct TaskWaitTests {
    typealias F = StorageFixtures

    /// A task of `user` over a private builtin-echo of `owner`: two participants, no files.
    static func privateEchoTask(owner: CloisterClient, user: CloisterClient) async throws -> TaskInfo {
        let function = try await owner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", executorType: "builtin", public: false,
            arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hello")], userAllowlist: ["mgr"]))
        return try await user.createTask(CreateTaskRequest(functionId: function.id, executor: "builtin"))
    }

    @Test("a long poll answers with the new state when the task changes, woken by the change (not by a recheck)")
    func wakesOnChange() async throws {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let function = try await F.echo(server.platform)
            let created = try await server.platform.tasks.create(F.user, CreateTaskRequest(functionId: function.id, executor: "builtin"))
            let staged = try await server.platform.tasks.invoke(F.user, created.id)
            #expect(staged.state == .staged)
            // No worker runs it: it changes only when canceled. The wait and the recheck are both far
            // longer than the test allows, so only the task's `changed` event can end the call early.
            let started = ContinuousClock.now
            let waiting = Task {
                try await server.platform.tasks.get(F.user, created.id, waitingUpTo: .seconds(30), recheck: .seconds(30))
            }
            // Once its first look is audited, the call is waiting (a change from then on wakes it).
            #expect(await F.eventually {
                try await server.platform.audit.entries(user: "mgr", object: created.id, limit: 100).contains { $0.action == "task.get" }
            })
            _ = try await server.platform.tasks.cancel(F.user, created.id)
            let answer = try await waiting.value
            #expect(answer.state == .canceled)
            #expect(ContinuousClock.now - started < .seconds(25))
        }
    }

    @Test("over HTTP: the state seen is given, a final task answers at once, an unchanged one after the wait; the client's waitForTask follows a run to its end")
    func overHTTP() async throws {
        try await TestServer.with(workers: 1) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let task = try await Self.privateEchoTask(owner: owner, user: user)
            #expect(task.state == .dataAssigned)  // no files to assign
            // Not approved by the function owner yet: nothing changes, the call answers after 1 s as it is.
            let unchanged = try await user.getTask(task.id, waitingUpTo: .seconds(1))
            #expect(unchanged.state == .dataAssigned)
            // A state other than the one given answers at once.
            #expect(try await user.getTask(task.id, waitingUpTo: .seconds(30), whileStateIs: .running).state == .dataAssigned)
            _ = try await owner.approveTask(task.id)
            _ = try await user.approveTask(task.id)
            _ = try await user.invokeTask(task.id)
            let done = try await user.waitForTask(task.id, timeout: .seconds(120))
            #expect(done.state == .finished)
            // Final: answers at once whatever the state given.
            #expect(try await user.getTask(task.id, waitingUpTo: .seconds(30), whileStateIs: .finished).state == .finished)
        }
    }

    @Test("bad wait and state values are 400s naming the parameter; a task the caller does not take part in is 404 at once")
    func badParameters() async throws {
        try await TestServer.with(workers: 0) { server in
            let (admin, owner, user) = try await server.client.standardUsers()
            let task = try await Self.privateEchoTask(owner: owner, user: user)
            let cases: [(query: String, field: String)] = [
                ("wait=-1", "wait"), ("wait=31", "wait"), ("wait=abc", "wait"), ("wait=1.5", "wait"), ("wait=", "wait"),
                ("wait=1&state=Bogus", "state"), ("wait=1&state=staged", "state"), ("state=Created", "state"),
            ]
            for (query, field) in cases {
                let (status, body) = try await user.send(.GET, "/v1/tasks/\(task.id)?\(query)")
                let error = try? JSONDecoder().decode(APIErrorBody.self, from: body)
                #expect(status == 400 && error?.error.code == "bad_request" && error?.error.message.contains("'\(field)'") == true, "\(query): \(status) \(String(decoding: body, as: UTF8.self))")
            }
            // The admin takes no part in the task: 404 without waiting (the wait would be 30 s).
            let started = ContinuousClock.now
            let (status, _) = try await admin.send(.GET, "/v1/tasks/\(task.id)?wait=30")
            #expect(status == 404)
            #expect(ContinuousClock.now - started < .seconds(25))
            // Nothing changed.
            #expect(try await user.getTask(task.id).state == .dataAssigned)
        }
    }
}
