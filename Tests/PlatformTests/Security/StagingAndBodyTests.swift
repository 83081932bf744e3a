import APIServer
import AsyncHTTPClient
import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import NIOCore
import Synchronization
import Testing
import WAT

/// Issue 20, item 15 (platform): a `data:` input never lies on the worker's disk in the clear; an
/// input URL naming a folder (a data root) is refused rather than copied whole; one client cannot
/// hold more than its share of request bodies at once.
@Suite("Security: staging and request bodies")
struct StagingAndBodyTests {
    @Test("while a function runs, its staged files are 0600 in a 0700 folder, and a data: input's plaintext is nowhere on disk")
    func noPlaintextOnDisk() async throws {
        try await TestServer.with(workers: 1) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let secret = "the-plaintext-of-a-data-url-\(UUID().uuidString)"
            let inline = try await user.registerInput(RegisterInputRequest(url: "data:," + secret, scheme: "raw", key: ""))
            let sleeper = try wat2wasm(GuestSnippets.sleeper())
            let function = try await SecurityFixtures.function(owner, module: sleeper, inputs: ["data"])
            let task = try await SecurityFixtures.invoke(user, userId: "mgr", function, inputs: ["data": inline.id])
            let work = server.folder + "/work"
            var staged: String?
            #expect(await poll(within: 60) {
                let folders = try FileManager.default.contentsOfDirectory(atPath: work).filter { $0.hasPrefix(task.id) }
                staged = folders.first.map { work + "/" + $0 + "/input-data" }
                return try await user.getTask(task.id).state == .running && staged.map(FileManager.default.fileExists) == true
            })
            let path = try #require(staged)
            #expect(KeysAtRestTests.mode(path) == 0o600)
            #expect(KeysAtRestTests.mode((path as NSString).deletingLastPathComponent) == 0o700)
            #expect(KeysAtRestTests.mode(work) == 0o700)
            let bytes = try #require(FileManager.default.contents(atPath: path))
            #expect(bytes.range(of: Data(secret.utf8)) == nil, "the data: input is on disk in the clear")
            #expect(bytes.count > secret.utf8.count, "the staged input is encrypted (header and tag)")
            _ = try await user.cancelTask(task.id)
        }
    }

    @Test("an input URL naming a folder (the data root itself, or one under it) is refused; one turned into a folder later fails the task")
    func foldersAreNotInputs() async throws {
        try await TestServer.with(workers: 1) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let root = server.folder + "/files"
            try FileManager.default.createDirectory(atPath: root + "/sub", withIntermediateDirectories: true)
            for url in ["file://" + root, "file://" + root + "/", "file://" + root + "/sub"] {
                let answer = try await user.send(.POST, "/v1/inputs", body: try WireFormat.encoder().encode(
                    RegisterInputRequest(url: url, scheme: "cloister-file-128", key: String(repeating: "00", count: 16))))
                #expect(answer.status == 400, "\(url)")
                #expect(String(decoding: answer.body, as: UTF8.self).contains("folder"))
            }
            // Registered as a file, a folder by the time the task runs: nothing is copied.
            let later = root + "/later"
            let sealed = try SecurityFixtures.encrypted(Array("a line\n".utf8))
            try Data(sealed.bytes).write(to: URL(fileURLWithPath: later))
            let input = try await user.registerInput(RegisterInputRequest(url: "file://" + later, scheme: "cloister-file-128", key: sealed.key))
            try FileManager.default.removeItem(atPath: later)
            try FileManager.default.createDirectory(atPath: later, withIntermediateDirectories: true)
            try Data(repeating: 7, count: 1 << 20).write(to: URL(fileURLWithPath: later + "/big"))
            let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), inputs: ["data"])
            let task = try await SecurityFixtures.run(user, userId: "mgr", function, inputs: ["data": input.id])
            #expect(task.state == .failed)
            #expect(task.reason == "input data: cannot be read")
        }
    }

    @Test("one client may hold a bounded amount of request bodies at once (429 past it); small calls have small limits (413)")
    func bodiesAreBoundedPerClient() async throws {
        try await TestServer.with(workers: 0, server: .init(port: 0, bodyBytesPerClient: 12 << 20)) { server in
            let (_, owner, _) = try await server.client.standardUsers()
            // A body of 2 MiB on a call that takes 64 KiB at most.
            let big = try await owner.send(.POST, "/v1/users", body: Data(#"{"id":"x","password":"\#(String(repeating: "y", count: 2 << 20))","role":"FunctionOwner"}"#.utf8))
            #expect(big.status == 413)
            // Three function registrations of 7 MiB each, every body held open before its last bytes:
            // 21 MiB for a budget of 12. Each declares its length, so the first to arrive takes 7 MiB
            // and the two that would take their client past the budget are answered 429 at once
            // (AsyncHTTPClient returns an early answer while it still uploads).
            let results = Statuses()
            var streams: [(AsyncStream<ByteBuffer>.Continuation, ArraySlice<UInt8>)] = []
            var running: [Task<Void, any Error>] = []
            for index in 0..<3 {
                let payload = Data(try SecurityFixtures.padded(SecurityFixtures.noop(), by: 5 << 20, with: UInt8(index))).base64EncodedString()
                let body = Array(try WireFormat.encoder().encode(RegisterFunctionRequest(name: "held-\(index)", executorType: "wasm", payload: payload)))
                let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
                var request = HTTPClientRequest(url: server.client.baseURL + "/v1/functions")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(owner.token!)")
                request.body = .stream(stream, length: .known(Int64(body.count)))
                for piece in Array(body.dropLast(16)).chunked(into: 1 << 20) { continuation.yield(ByteBuffer(bytes: piece)) }
                streams.append((continuation, body.suffix(16)))
                let sent = request
                running.append(Task {
                    results.add(try await HTTPClient.shared.execute(sent, timeout: .seconds(120)).status.code)
                })
            }
            #expect(await poll(within: 60) { results.all.contains(429) })
            for (continuation, rest) in streams {
                continuation.yield(ByteBuffer(bytes: rest))
                continuation.finish()
            }
            for task in running { try await task.value }
            let statuses = results.all
            #expect(statuses.sorted() == [201, 429, 429], "\(statuses)")
            // Once answered, the bytes are the client's again: the same registration succeeds.
            let again = Data(try WireFormat.encoder().encode(RegisterFunctionRequest(
                name: "again", executorType: "wasm", payload: Data(try SecurityFixtures.padded(SecurityFixtures.noop(), by: 5 << 20, with: 9)).base64EncodedString())))
            #expect(try await owner.send(.POST, "/v1/functions", body: again).status == 201)
        }
    }
}

/// Statuses collected from concurrent requests.
final class Statuses: Sendable {
    private let list = Mutex<[UInt]>([])
    func add(_ status: UInt) { list.withLock { $0.append(status) } }
    var all: [UInt] { list.withLock { $0 } }
}
