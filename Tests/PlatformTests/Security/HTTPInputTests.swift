import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import Platform
import Testing

/// Issue 20, items 7 and 8: http(s) inputs are fetched under a heartbeat, with short timeouts and
/// no retry, only from addresses the operator allows; a failure's reason, which every participant
/// reads, names the input and never its URL, its credentials, a host path or a server's status.
@Suite("Security: http(s) inputs and failure reasons")
struct HTTPInputTests {
    static let plaintext = Array("lines of a data owner\n".utf8)

    @Test("by default loopback is refused: an address at registration, a name that resolves to one at fetch time (never contacted)")
    func loopbackRefusedByDefault() async throws {
        let file = try SecurityFixtures.encrypted(Self.plaintext)
        try await LocalHTTPServer.with(content: file.bytes) { web in
            try await TestServer.with { server in
                let (_, owner, user) = try await server.client.standardUsers()
                let literal = try await user.send(.POST, "/v1/inputs", body: try WireFormat.encoder().encode(
                    RegisterInputRequest(url: web.base + "/file", scheme: "cloister-file-128", key: file.key, tag: file.tag)))
                #expect(literal.status == 400)
                #expect(String(decoding: literal.body, as: UTF8.self).contains("loopback"))
                let named = try await user.registerInput(RegisterInputRequest(
                    url: "http://localhost:\(web.port)/file", scheme: "cloister-file-128", key: file.key, tag: file.tag))
                let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), inputs: ["data"])
                let task = try await SecurityFixtures.run(user, userId: "mgr", function, inputs: ["data": named.id])
                #expect(task.state == .failed)
                #expect(task.reason == "input data: could not be fetched")
                #expect(web.requests("/file") == 0)
            }
        }
    }

    @Test("a slow download (longer than the stale limit) is fetched once, under a heartbeat, and the task finishes")
    func slowDownloadKeepsItsClaim() async throws {
        let file = try SecurityFixtures.encrypted(Self.plaintext)
        try await LocalHTTPServer.with(content: file.bytes, slowPieces: 6) { web in
            try await TestServer.with(configure: { configuration in
                configuration.httpInputs = HTTPInputPolicy(allowedNetworks: [IPNetwork("127.0.0.0/8")!])
                configuration.staleAfter = 2
                configuration.heartbeatInterval = .milliseconds(400)
            }) { server in
                let (admin, owner, user) = try await server.client.standardUsers()
                let input = try await user.registerInput(RegisterInputRequest(
                    url: web.base + "/slow", scheme: "cloister-file-128", key: file.key, tag: file.tag))
                let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), inputs: ["data"])
                let task = try await SecurityFixtures.run(user, userId: "mgr", function, inputs: ["data": input.id])
                #expect(task.state == .finished, "\(task.reason ?? "")")
                #expect(web.requests("/slow") == 1)
                #expect(try await SecurityFixtures.claims(of: task.id, admin: admin) == 1)
            }
        }
    }

    @Test("a closed port fails at once, claimed once; statuses, redirects and credentials all give one generic reason")
    func failuresAreGenericAndFinal() async throws {
        let file = try SecurityFixtures.encrypted(Self.plaintext)
        try await LocalHTTPServer.with(content: file.bytes) { web in
            try await TestServer.with(configure: { configuration in
                configuration.httpInputs = HTTPInputPolicy(allowedNetworks: [IPNetwork("127.0.0.1/32")!])
            }) { server in
                let (admin, owner, user) = try await server.client.standardUsers()
                let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), inputs: ["data"])
                // A port nobody listens on: bound, then closed.
                let closedPort = try LoopbackPort.closed()
                var urls = [
                    "http://127.0.0.1:\(closedPort)/x", web.base + "/status/404", web.base + "/status/403", web.base + "/status/500",
                    web.base + "/status/401", web.base + "/redirect",
                    "http://ingest:s3cr3t-password@127.0.0.1:\(web.port)/status/403?X-Amz-Signature=deadbeefcafe&X-Amz-Credential=AKIA",
                ]
                urls.append(web.base + "/status/200")  // an empty 200: fetched, but not the registered file
                var reasons: Set<String> = []
                for url in urls {
                    let input = try await user.registerInput(RegisterInputRequest(url: url, scheme: "cloister-file-128", key: file.key, tag: file.tag))
                    let task = try await SecurityFixtures.run(user, userId: "mgr", function, inputs: ["data": input.id])
                    #expect(task.state == .failed, "\(url)")
                    #expect(try await SecurityFixtures.claims(of: task.id, admin: admin) == 1, "\(url) was claimed more than once")
                    let reason = task.reason ?? ""
                    for secret in ["s3cr3t", "Signature", "AKIA", "ingest", "127.0.0.1", String(web.port), String(closedPort), "status"] {
                        #expect(!reason.contains(secret), "\(url): \(reason)")
                    }
                    if url.hasSuffix("/200") {
                        #expect(reason.hasPrefix("input data: "))
                    } else {
                        reasons.insert(reason)
                    }
                }
                #expect(reasons == ["input data: could not be fetched"])
                #expect(web.requests("/file") == 0, "a redirect was followed")
            }
        }
    }

    @Test("a file:// input that is gone fails with a reason that shows no host path")
    func fileReasonsShowNoPath() async throws {
        try await TestServer.with { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let file = try SecurityFixtures.encrypted(Self.plaintext)
            let path = server.folder + "/files/private-folder-name/owner-file.enc"
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(file.bytes).write(to: URL(fileURLWithPath: path))
            let input = try await user.registerInput(RegisterInputRequest(url: "file://" + path, scheme: "cloister-file-128", key: file.key, tag: file.tag))
            try FileManager.default.removeItem(atPath: path)
            let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), inputs: ["data"])
            let task = try await SecurityFixtures.run(user, userId: "mgr", function, inputs: ["data": input.id])
            #expect(task.state == .failed)
            #expect(task.reason == "input data: cannot be read")
            #expect(!(task.reason ?? "").contains("private-folder-name"))
        }
    }
}
