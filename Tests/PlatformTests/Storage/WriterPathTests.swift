import CloisterAPI
import Foundation
import SQLKit
import Synchronization
import Testing
@testable import Platform

/// The short paths of a busy platform: a write that finds the SQLite writer idle runs on its
/// caller's thread, but never waits there for another process's lock; one task queued wakes one
/// worker; a worker's commits do not hold a run permit.
@Suite("Storage: the writer's short path, worker wake-ups and run permits")
struct WriterPathTests {
    typealias F = StorageFixtures

    @Test("a write that finds the write lock held by another connection waits for it on the writer's thread: reads go on meanwhile, and the write lands once the lock is free")
    func heldWriteLockIsWaitedForOffThePool() async throws {
        try await TestServer.with(workers: 0) { server in
            let platform = server.platform
            guard platform.database.kind == .sqlite, case .sqlite(let path) = platform.configuration.database else { return }
            try await F.users(platform)
            // Another connection (as another process would) takes the write lock and keeps it.
            let other = try SQLiteHandle.open(path: path)
            defer { other.close() }
            try other.run("BEGIN IMMEDIATE", []) { _ in }
            let write = Task {
                try await platform.accounts.register(F.admin, RegisterUserRequest(id: "while-locked", password: "password-1", role: "FunctionOwner"))
            }
            // The write cannot have happened: the lock is held. Reads are not held up by it (nor is
            // the cooperative pool, which a wait for the lock on the caller's thread would hold).
            for _ in 0..<20 { #expect(try await platform.database.record(UserRecord.self, "fo") != nil) }
            #expect(try await platform.database.record(UserRecord.self, "while-locked") == nil)
            try other.run("COMMIT", []) { _ in }
            _ = try await write.value
            #expect(try await platform.database.record(UserRecord.self, "while-locked") != nil)
            // And the next write, with the writer idle again, runs at once.
            _ = try await platform.accounts.register(F.admin, RegisterUserRequest(id: "after", password: "password-1", role: "FunctionOwner"))
            #expect(try await platform.database.record(UserRecord.self, "after") != nil)
        }
    }

    @Test("a long poll given several states waits while the task is in any of them: one call from invocation to the end")
    func longPollOverSeveralStates() async throws {
        try await TestServer.with(workers: 1) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let task = try await TaskWaitTests.privateEchoTask(owner: owner, user: user)
            // Not one of the states given: at once.
            #expect(try await user.getTask(task.id, waitingUpTo: .seconds(30), whileStateIs: .approved, .staged).state == .dataAssigned)
            // One of them, and nothing moves it: after the wait, as it is.
            #expect(try await user.getTask(task.id, waitingUpTo: .seconds(1), whileStateIs: .approved, .dataAssigned).state == .dataAssigned)
            _ = try await owner.approveTask(task.id)
            _ = try await user.approveTask(task.id)
            _ = try await user.invokeTask(task.id)
            let done = try await user.getTask(task.id, waitingUpTo: .seconds(30), whileStateIs: .staged, .running)
            #expect(done.state == .finished)
            // Each piece must be a state: 400 naming the parameter, and nothing changed.
            for query in ["wait=1&state=Staged,Bogus", "wait=1&state=Staged,", "wait=1&state=,", "wait=1&state=Staged;Running"] {
                let (status, body) = try await user.send(.GET, "/v1/tasks/\(task.id)?\(query)")
                #expect(status == 400 && String(decoding: body, as: UTF8.self).contains("'state'"), "\(query): \(status)")
            }
            #expect(try await user.getTask(task.id).state == .finished)
        }
    }

    @Test("a signal wakes one waiter; signalAll wakes every one; a signal nobody waits for wakes the next wait at once")
    func wakeSignalWakesOne() async throws {
        let signal = WakeSignal()
        let woken = Count()
        let waiters = (0..<2).map { _ in
            Task {
                await signal.wait(timeout: .seconds(60))
                woken.value.add(1, ordering: .sequentiallyConsistent)
            }
        }
        // Both waiting: a signal wakes exactly one of them.
        #expect(await F.eventually { signal.waiting == 2 })
        signal.signal()
        #expect(await F.eventually { woken.value.load(ordering: .sequentiallyConsistent) == 1 })
        #expect(signal.waiting == 1)
        signal.signalAll()
        for waiter in waiters { await waiter.value }
        #expect(woken.value.load(ordering: .sequentiallyConsistent) == 2)
        // Kept for the next wait, which returns at once (the timeout is a minute).
        signal.signal()
        let started = ContinuousClock.now
        await signal.wait(timeout: .seconds(60))
        #expect(ContinuousClock.now - started < .seconds(50))
    }

    @Test("run permits: one permit, the second acquire waits until the first is given back")
    func runPermitsLimitRuns() async throws {
        let permits = RunPermits(1)
        await permits.acquire()
        let second = Task { await permits.acquire() }
        #expect(await F.eventually { permits.waiting == 1 })
        permits.release()
        await second.value
        #expect(permits.waiting == 0)
        permits.release()
    }

    @Test("with one run permit, a task whose end waits to be committed does not hold up the next task's run")
    func commitsDoNotHoldARunPermit() async throws {
        let gate = Gate()
        try await TestServer.with(workers: 1, configure: { $0.workerHooks.beforeComplete = { await gate.pass($0) } }) { server in
            let platform = server.platform
            try await F.users(platform)
            let function = try await F.echo(platform)
            var ids: [String] = []
            for message in ["first", "second"] {
                let task = try await platform.tasks.create(F.user, CreateTaskRequest(
                    functionId: function.id, functionArguments: ["message": ArgumentValue(message)], executor: "builtin"))
                ids.append(try await platform.tasks.invoke(F.user, task.id).id)
            }
            // Both ran (one permit, one at a time) and both wait to commit their end.
            #expect(await F.eventually { ids.allSatisfy(gate.hasReached) })
            gate.open()
            for id in ids {
                #expect(await F.eventually { try await platform.tasks.get(F.user, id).state == .finished })
            }
            let results = try await ids.asyncMap { try await platform.tasks.get(F.user, $0).result?.returnValue }
            #expect(results == ["first", "second"])
        }
    }
}

/// A count several tasks add to.
private final class Count: Sendable {
    let value = Atomic<Int>(0)
}

extension Array where Element: Sendable {
    fileprivate func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var mapped: [T] = []
        for element in self { mapped.append(try await transform(element)) }
        return mapped
    }
}
