import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// A real HTTP server on an ephemeral loopback port that serves http(s) inputs to the platform's
/// workers in tests, counting the requests of each path; stopped when the body returns.
///
/// - `GET /file`: `content` at once.
/// - `GET /slow`: `content` in `slowPieces` pieces, one every `slowInterval`.
/// - `GET /status/{code}`: an empty answer with that status.
/// - `GET /redirect`: 302 to `/file` on the same server (a worker must not follow it).
final class LocalHTTPServer: Sendable {
    let content: [UInt8]
    let slowPieces: Int
    let slowInterval: Duration
    private let counts = Mutex<[String: Int]>([:])
    private let portBox = Mutex<Int>(0)

    var port: Int { portBox.withLock { $0 } }
    var base: String { "http://127.0.0.1:\(port)" }

    init(content: [UInt8], slowPieces: Int = 6, slowInterval: Duration = .seconds(1)) {
        self.content = content
        self.slowPieces = slowPieces
        self.slowInterval = slowInterval
    }

    /// How many requests reached `path`.
    func requests(_ path: String) -> Int { counts.withLock { $0[path, default: 0] } }

    private func count(_ path: String) { counts.withLock { $0[path, default: 0] += 1 } }

    /// Runs `body` while the server listens.
    static func with<T: Sendable>(content: [UInt8], slowPieces: Int = 6, _ body: @Sendable (LocalHTTPServer) async throws -> T) async throws -> T {
        let server = LocalHTTPServer(content: content, slowPieces: slowPieces)
        let router = Router()
        router.get("file") { _, _ -> Response in
            server.count("/file")
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(bytes: server.content)))
        }
        router.get("slow") { _, _ -> Response in
            server.count("/slow")
            let pieces = server.content.chunked(into: max(1, (server.content.count + server.slowPieces - 1) / server.slowPieces))
            return Response(
                status: .ok, headers: [.contentLength: String(server.content.count)],
                body: .init { writer in
                    for piece in pieces {
                        try await Task.sleep(for: server.slowInterval)
                        try await writer.write(ByteBuffer(bytes: piece))
                    }
                    try await writer.finish(nil)
                })
        }
        router.get("status/:code") { _, context -> Response in
            server.count("/status")
            return Response(status: .init(code: Int(context.parameters.get("code") ?? "500") ?? 500))
        }
        router.get("redirect") { _, _ -> Response in
            server.count("/redirect")
            return Response(status: .found, headers: [.location: "/file"])
        }
        var logger = Logger(label: "cloister.test.http")
        logger.logLevel = .critical
        let ports = AsyncStream<Int>.makeStream()
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in ports.continuation.yield(channel.localAddress?.port ?? 0) }, logger: logger)
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.stream.makeAsyncIterator()
            guard let port = await iterator.next() else { throw CancellationError() }
            server.portBox.withLock { $0 = port }
            let value: T
            do {
                value = try await body(server)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        }!
    }
}

extension Array {
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
