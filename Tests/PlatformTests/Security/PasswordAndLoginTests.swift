import CloisterAPI
import CloisterClient
import Foundation
import Testing
@testable import Platform

/// Issue 20, items 9, 10, 11 and the logout of 15: passwords bcrypt would cut are refused; logins
/// are limited per account and per address before any hash, and hashed on a bounded pool of their
/// own; a failed login never writes unchecked text into the audit log; a logout ends its token.
@Suite("Security: passwords, logins, audit, logout")
struct PasswordAndLoginTests {
    static func status(_ client: CloisterClient, _ method: String, _ path: String, _ body: String) async throws -> (Int, String) {
        let answer = try await client.send(.init(rawValue: method), path, body: Data(body.utf8))
        return (answer.status, String(decoding: answer.body, as: UTF8.self))
    }

    @Test("a password with a NUL byte or over 72 bytes is refused; 72 bytes work; a longer one never logs in")
    func bcryptCannotCutPasswords() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            // A password starting with NUL: bcrypt would read it as the empty password.
            let nul = try await Self.status(admin, "POST", "/v1/users", #"{"id":"nul","password":"\u0000password-1","role":"FunctionOwner"}"#)
            #expect(nul.0 == 400 && nul.1.contains("NUL"))
            #expect(try await admin.send(.POST, "/v1/auth/login", body: Data(#"{"id":"nul","password":""}"#.utf8)).status == 401)
            let long = String(repeating: "p", count: 72)
            let tooLong = try await Self.status(admin, "POST", "/v1/users", #"{"id":"long","password":"\#(long)x","role":"FunctionOwner"}"#)
            #expect(tooLong.0 == 400 && tooLong.1.contains("72"))
            _ = try await admin.registerUser(RegisterUserRequest(id: "long", password: long, role: "FunctionOwner"))
            _ = try await server.session("long", long)
            // Anything after the 72nd byte would be ignored by bcrypt: such a password never matches.
            #expect(try await server.client.send(.POST, "/v1/auth/login", body: try WireFormat.encoder().encode(LoginRequest(id: "long", password: long + "anything"))).status == 401)
            let user = try await server.session("long", long)
            let change = try await Self.status(user, "POST", "/v1/users/long/password", #"{"old_password":"\#(long)","new_password":"x\u0000yyyyyyyy"}"#)
            #expect(change.0 == 400 && change.1.contains("NUL"))
        }
    }

    @Test("a first admin password (CLOISTER_ADMIN_PASSWORD) bcrypt would cut is refused, and no admin is made")
    func adminPasswordFollowsTheRules() async throws {
        for bad in [String(repeating: "a", count: 73), "\u{0}admin-password"] {
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-admin-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            var configuration = PlatformConfiguration(dataFolder: folder)
            configuration.workers = 0
            configuration.passwordCost = 4
            configuration.adminPassword = bad
            let database = try await TestDatabase.make()
            if let database { configuration.database = database }
            defer { Task { await TestDatabase.drop(database) } }
            let platform = try await Platform.open(configuration)
            await #expect(throws: PlatformError.self) { _ = try await platform.bootstrapAdmin() }
            #expect(try await platform.database.record(UserRecord.self, "admin") == nil)
            try await platform.shutdown()
        }
    }

    @Test("logins are limited per account (even the right password waits) and per address, with Retry-After")
    func loginLimits() async throws {
        try await TestServer.with(workers: 0, configure: { configuration in
            configuration.loginLimits.failuresPerAccount = 3
            configuration.loginLimits.attemptsPerAddress = 12
        }) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            _ = try await admin.registerUser(RegisterUserRequest(id: "target", password: "right-password", role: "FunctionOwner"))
            for _ in 0..<3 {
                #expect(try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"target","password":"wrong-guess"}"#.utf8)).status == 401)
            }
            let locked = try await Self.status(server.client, "POST", "/v1/auth/login", #"{"id":"target","password":"right-password"}"#)
            #expect(locked.0 == 429 && locked.1.contains("too_many_requests"))
            // Another account is not affected until the address's own limit (12 attempts) is reached.
            _ = try await server.session("admin", TestServer.adminPassword)
            var statuses: [Int] = []
            for index in 0..<10 {
                statuses.append(try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"someone-\#(index)","password":"wrong-guess"}"#.utf8)).status)
            }
            #expect(statuses.filter { $0 == 401 }.count == 7 && statuses.last == 429, "\(statuses)")
            let request = try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"admin","password":"x-x-x-x-x"}"#.utf8))
            #expect(request.status == 429)
            // The first refusal of each lock is in the audit log (the account's, the address's); the
            // refusals after it are not, so that a flood adds a bounded number of entries.
            let throttled = try await admin.audit(limit: 500).filter { $0.action == "user.login" && $0.detail.hasPrefix("throttled") }
            #expect(throttled.map(\.user).sorted() == ["someone-7", "target"], "\(throttled.map(\.user))")
        }
    }

    @Test("passwords are hashed on a bounded pool: a flood gets 429 at once, and other calls answer meanwhile")
    func boundedPasswordPool() async throws {
        try await TestServer.with(workers: 0, configure: { configuration in
            configuration.passwordThreads = 1
            configuration.passwordQueueLimit = 2
            configuration.passwordCost = 12
            configuration.loginLimits.attemptsPerAddress = 1000
        }) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            let flood = 12
            async let statuses: [Int] = withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<flood {
                    group.addTask {
                        try await server.client.send(
                            .POST, "/v1/auth/login", body: Data(#"{"id":"user\#(index)","password":"wrong-guess"}"#.utf8)).status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            // While bcrypt works through the flood, a call that needs no hash answers.
            #expect(try await admin.listUsers().count == 1)
            let results = try await statuses
            #expect(results.filter { $0 == 429 }.count >= flood - 4, "\(results)")
            #expect(results.allSatisfy { $0 == 429 || $0 == 401 }, "\(results)")
        }
    }

    @Test("a failed login records no unchecked text: huge ids are 413, ids with newlines or junk are recorded as malformed")
    func auditCannotBeFlooded() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            let before = KeysAtRestTests.databaseBytes(server.folder).count
            let huge = String(repeating: "A", count: 16 << 20)
            for _ in 0..<5 {
                let answer = try await server.client.send(.POST, "/v1/auth/login", body: Data(#"{"id":"\#(huge)","password":"x"}"#.utf8))
                #expect(answer.status == 413)
            }
            let forged = #"{"id":"admin\n2026-01-01 user.login admin allowed","password":"wrong-guess"}"#
            #expect(try await server.client.send(.POST, "/v1/auth/login", body: Data(forged.utf8)).status == 401)
            let junk = String(repeating: "é\u{2028}", count: 4000)
            #expect(try await server.client.send(.POST, "/v1/auth/login", body: try WireFormat.encoder().encode(LoginRequest(id: junk, password: "x"))).status == 401)
            let entries = try await admin.audit(limit: 100)
            let logins = entries.filter { $0.action == "user.login" && $0.decision == "denied" }
            #expect(logins.count == 2)
            #expect(logins.allSatisfy { $0.user == "-" && $0.object.isEmpty && $0.detail.hasPrefix("malformed user id") })
            for entry in entries {
                for field in [entry.user, entry.action, entry.object, entry.detail] {
                    #expect(!field.contains("\n") && !field.contains("\u{2028}") && field.utf8.count <= 2000)
                }
            }
            let grown = KeysAtRestTests.databaseBytes(server.folder).count - before
            #expect(grown < 4 << 20, "the database grew by \(grown) bytes")
            // What the audit log escapes and bounds.
            #expect(AuditLog.clean("a\nb\u{0}c", limit: 100) == #"a\u{a}b\u{0}c"#)
            #expect(AuditLog.clean(String(repeating: "x", count: 500), limit: 128).utf8.count <= 128)
        }
    }

    @Test("a logout ends its token at once (and only that token)")
    func logoutEndsTheToken() async throws {
        try await TestServer.with(workers: 0) { server in
            let first = try await server.session("admin", TestServer.adminPassword)
            let second = try await server.session("admin", TestServer.adminPassword)
            #expect(try await first.send(.GET, "/v1/users").status == 200)
            try await first.logout()
            #expect(try await first.send(.GET, "/v1/users").status == 401)
            #expect(try await first.send(.POST, "/v1/auth/logout").status == 401)
            #expect(try await second.send(.GET, "/v1/users").status == 200)
            #expect(try await server.client.send(.POST, "/v1/auth/logout").status == 401)
        }
    }
}
