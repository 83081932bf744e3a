import CloisterAPI
import Foundation
import SQLKit
import Testing
@testable import Platform

/// What makes a call cheap must not make it wrong: records are not decoded again when their row is
/// unchanged (`DecodedRecords`), tokens not verified again (`TokenSigner`), statements not serialized
/// again (`CachedStatement`), and SQLite's statements run on the caller's or the writer's thread
/// (`SQLiteHandle`).
@Suite("Storage: cached records, tokens and statements")
struct ReadPathTests {
    typealias F = StorageFixtures

    @Test("a row changed behind the platform's back is read as it is now, not as it was decoded before")
    func changedRowsAreDecodedAgain() async throws {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let database = server.platform.database
            let before = try #require(try await database.record(UserRecord.self, "fo"))
            #expect(!before.deleted)
            // Another process (or an operator) rewrites the row: same id, same version, new body.
            var changed = before
            changed.deleted = true
            let body = String(decoding: try JSONEncoder.records.encode(changed), as: UTF8.self)
            try await database.write("test.rewrite") { transaction in
                try await transaction.sql.update("users").set("body", to: body).where("id", .equal, "fo").run()
            }
            #expect(try await database.record(UserRecord.self, "fo")?.deleted == true)
            // …and the platform acts on it: the deleted user's token no longer works.
            let token = try await server.platform.accounts.login(LoginRequest(id: "mgr", password: "password-1")).token
            _ = try await server.platform.accounts.authenticate(token: token)
            try await database.write("test.rewrite") { transaction in
                var user = try #require(try await transaction.users.get("mgr", lock: true))
                user.deleted = true
                let body = String(decoding: try JSONEncoder.records.encode(user), as: UTF8.self)
                try await transaction.sql.update("users").set("body", to: body).where("id", .equal, "mgr").run()
            }
            await #expect(throws: PlatformError.self) { try await server.platform.accounts.authenticate(token: token) }
        }
    }

    @Test("a token verified once still expires, and a token whose signature was changed is refused")
    func verifiedTokensStillExpire() throws {
        let signer = TokenSigner(key: Array(repeating: 7, count: 32), lifetime: 60)
        let now = Date()
        let (token, _) = signer.sign(user: "alice", generation: 1, now: now)
        #expect(signer.verify(token, now: now)?.sub == "alice")
        #expect(signer.verify(token, now: now)?.sub == "alice")
        #expect(signer.verify(token, now: now.addingTimeInterval(61)) == nil)
        var forged = Array(token)
        forged[forged.count - 2] = forged[forged.count - 2] == "A" ? "B" : "A"
        #expect(signer.verify(String(forged), now: now) == nil)
        // Another key never accepts it, whatever the first signer remembers.
        #expect(TokenSigner(key: Array(repeating: 8, count: 32), lifetime: 60).verify(token, now: now) == nil)
    }

    @Test("a failing statement fails its own call with SQLite's or PostgreSQL's message and leaves the writer working; many calls at once all land")
    func failuresAndConcurrency() async throws {
        try await TestServer.with(workers: 0) { server in
            try await F.users(server.platform)
            let database = server.platform.database
            await #expect {
                try await database.write("test.bad") { transaction in try await transaction.sql.raw("SELEC 1").run() }
            } throws: { error in
                // PostgresNIO keeps the server's message out of `description`.
                String(reflecting: error).lowercased().contains("syntax")
            }
            // Both statement shapes of a record, on many tasks at once: every write lands once.
            let function = try await F.echo(server.platform)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<40 {
                    group.addTask {
                        let task = try await server.platform.tasks.create(F.user, CreateTaskRequest(
                            functionId: function.id, functionArguments: ["message": ArgumentValue("m\(index)")], executor: "builtin"))
                        _ = try await server.platform.tasks.get(F.user, task.id)
                        return try await server.platform.tasks.invoke(F.user, task.id).id
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(Set(ids).count == 40)
            for id in ids { #expect(try await database.record(TaskRecord.self, id)?.state == .staged) }
            #expect(try await database.record(FunctionRecord.self, function.id)?.invocations == 40)
        }
    }
}
