import CloisterAPI
import Foundation
import Synchronization
import Testing
@testable import Platform

/// A point in a worker's run that holds each task until the test opens it.
final class Gate: Sendable {
    private struct State {
        var reached: Set<String> = []
        var open = false
        var waiting: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Records that `task` reached the gate and waits until it is open.
    func pass(_ task: String) async {
        await withCheckedContinuation { continuation in
            let go = state.withLock { state -> Bool in
                state.reached.insert(task)
                if state.open { return true }
                state.waiting.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
    }

    func open() {
        for waiter in state.withLock({ state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }) { waiter.resume() }
    }

    func hasReached(_ task: String) -> Bool { state.withLock { $0.reached.contains(task) } }
}

/// Cancel racing completion, and a worker stopping between its commit and moving its outputs into
/// place: a canceled task never leaves an output, a finished one always has each output exactly once.
@Suite("Storage: cancel racing completion, delivery after a stop")
struct CancelRaceTests {
    typealias F = StorageFixtures

    /// The path an output of `server` is delivered to.
    static func destination(_ server: TestServer, _ output: DataFile) -> String {
        server.platform.configuration.outputFolder + "/" + output.id
    }

    static func pendingFolders(_ server: TestServer) -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: server.platform.configuration.outputFolder + "/.pending")) ?? []
    }

    @Test("a cancel that lands after the outputs are staged and before the end is committed: Canceled, no output, no tag, nothing pending")
    func cancelBetweenStagingAndCommit() async throws {
        let gate = Gate()
        try await TestServer.with(workers: 1, configure: { $0.workerHooks.beforeComplete = { await gate.pass($0) } }) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            let (task, output, _) = try await F.writerTask(platform, writer, message: "never delivered")
            _ = try await platform.tasks.invoke(F.user, task.id)
            #expect(await F.eventually { gate.hasReached(task.id) })
            // The run wrote its output and staged it for delivery: it waits in the pending folder.
            #expect(Self.pendingFolders(server) == ["\(task.id).1"])
            let canceled = try await platform.tasks.cancel(F.user, task.id)
            #expect(canceled.state == .canceled)
            gate.open()
            #expect(await F.eventually { Self.pendingFolders(server).isEmpty })
            let after = try await platform.tasks.get(F.user, task.id)
            #expect(after.state == .canceled && after.result == nil)
            #expect(try await platform.data.get(F.user, output.id, kind: .output).tag == nil)
            #expect(!FileManager.default.fileExists(atPath: Self.destination(server, output)))
            await #expect(throws: PlatformError.conflict("output \(output.id) has not been written yet")) {
                _ = try await platform.data.outputContentPath(F.user, output.id)
            }
        }
    }

    @Test("a cancel after the commit is refused (409) and the output stays, exactly as written")
    func cancelAfterCommit() async throws {
        try await TestServer.with(workers: 1) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            let (task, output, key) = try await F.writerTask(platform, writer, message: "delivered")
            _ = try await platform.tasks.invoke(F.user, task.id)
            #expect(await F.eventually { try await platform.tasks.get(F.user, task.id).state == .finished })
            await #expect(throws: PlatformError.conflict("task \(task.id) is Finished; it cannot be canceled")) {
                _ = try await platform.tasks.cancel(F.user, task.id)
            }
            let path = try await platform.data.outputContentPath(F.user, output.id)
            #expect(try F.decrypt(path, key: key) == "delivered")
            #expect(try await platform.tasks.get(F.user, task.id).result?.outputTags["out"] == (try await platform.data.get(F.user, output.id, kind: .output).tag))
        }
    }

    @Test("many cancels at random moments of many runs: every Canceled task has no output and no tag, every Finished one its output once")
    func randomCancels() async throws {
        try await TestServer.with(workers: 2) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            // How long one run takes here, invoke to end: the cancels land anywhere in such a span.
            let calibration = try await F.writerTask(platform, writer, message: "calibration")
            let start = ContinuousClock.now
            _ = try await platform.tasks.invoke(F.user, calibration.task.id)
            #expect(await F.eventually { try await platform.tasks.get(F.user, calibration.task.id).state.isFinal })
            let span = Int((ContinuousClock.now - start) / .microseconds(1))
            var runs: [(task: TaskInfo, output: DataFile, key: [UInt8])] = []
            for index in 0..<40 { runs.append(try await F.writerTask(platform, writer, message: "run \(index)")) }
            // Two at a time (one per worker), each canceled after a random part of a run's span.
            for pair in stride(from: 0, to: runs.count, by: 2) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for run in runs[pair..<min(pair + 2, runs.count)] {
                        group.addTask {
                            _ = try await platform.tasks.invoke(F.user, run.task.id)
                            try await Task.sleep(for: .microseconds(Int.random(in: 0...(span * 3 / 2))))
                            _ = try? await platform.tasks.cancel(F.user, run.task.id)
                        }
                    }
                    try await group.waitForAll()
                }
            }
            var outcomes: [TaskState: Int] = [:]
            for run in runs {
                #expect(await F.eventually { try await platform.tasks.get(F.user, run.task.id).state.isFinal })
                let task = try await platform.tasks.get(F.user, run.task.id)
                outcomes[task.state, default: 0] += 1
                let file = try await platform.data.get(F.user, run.output.id, kind: .output)
                let path = Self.destination(server, run.output)
                switch task.state {
                case .canceled:
                    #expect(file.tag == nil, "\(task.id)")
                case .finished:
                    #expect(file.tag != nil && file.tag == task.result?.outputTags["out"])
                    #expect(await F.eventually { FileManager.default.fileExists(atPath: path) })
                    #expect(try F.decrypt(path, key: run.key) == "run \(runs.firstIndex { $0.task.id == run.task.id }!)")
                default:
                    Issue.record("\(task.id) ended \(task.state.rawValue): \(task.reason ?? "")")
                }
            }
            // Every attempt that will never commit is cleared; no canceled task's output ever appears.
            #expect(await F.eventually { Self.pendingFolders(server).isEmpty })
            for run in runs where try await platform.tasks.get(F.user, run.task.id).state == .canceled {
                #expect(!FileManager.default.fileExists(atPath: Self.destination(server, run.output)))
            }
            #expect(outcomes.values.reduce(0, +) == runs.count, "\(outcomes)")
        }
    }

    @Test("a worker that stops between its commit and moving the output: a download moves it into place, the worker's late move changes nothing")
    func deliveryAfterAStop() async throws {
        let gate = Gate()
        try await TestServer.with(workers: 1, configure: { $0.workerHooks.beforePublish = { await gate.pass($0) } }) { server in
            let platform = server.platform
            try await F.users(platform)
            let writer = try await F.writer(platform)
            let (task, output, key) = try await F.writerTask(platform, writer, message: "rolled forward")
            _ = try await platform.tasks.invoke(F.user, task.id)
            #expect(await F.eventually { gate.hasReached(task.id) })
            // Committed: Finished with its tag, the file still pending.
            #expect(try await platform.tasks.get(F.user, task.id).state == .finished)
            #expect(!FileManager.default.fileExists(atPath: Self.destination(server, output)))
            let path = try await platform.data.outputContentPath(F.user, output.id)
            #expect(try F.decrypt(path, key: key) == "rolled forward")
            gate.open()
            #expect(await F.eventually { Self.pendingFolders(server).isEmpty })
            #expect(try F.decrypt(Self.destination(server, output), key: key) == "rolled forward")
        }
    }
}
