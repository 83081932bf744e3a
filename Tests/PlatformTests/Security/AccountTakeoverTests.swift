import CloisterAPI
import CloisterClient
import Foundation
import Testing
@testable import Platform

/// Issue 20, item 6: the party that writes code never manages an account that owns data, and only
/// an admin resets a password. The attack of the review, step by step, each step now refused: a
/// function owner registers a data owner manager, resets its password, the manager resets a data
/// owner's, and the function owner logs in as that data owner to run its own function over the
/// owner's data.
@Suite("Security: account takeover across the trust boundary")
struct AccountTakeoverTests {
    @Test("the function owner cannot register, reset or become a data owner; a manager cannot reset its data owners")
    func takeoverChainIsBroken() async throws {
        try await TestServer.with(workers: 1) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            _ = try await admin.registerUser(RegisterUserRequest(id: "fo", password: "fo-password", role: "FunctionOwner"))
            let fo = try await server.session("fo", "fo-password")
            // Step 1 of the attack: the function owner registers a manager of the bank's attribute.
            let register = try await fo.send(.POST, "/v1/users", body: Data(#"{"id":"evil-mgr","password":"password-1","role":"DataOwnerManager-bank"}"#.utf8))
            #expect(register.status == 403)
            // The bank's real accounts, registered by the admin and by the bank's manager.
            _ = try await admin.registerUser(RegisterUserRequest(id: "bank-mgr", password: "manager-password", role: "DataOwnerManager-bank"))
            let manager = try await server.session("bank-mgr", "manager-password")
            _ = try await manager.registerUser(RegisterUserRequest(id: "bank-do", password: "owner-password", role: "DataOwner-bank"))
            let owner = try await server.session("bank-do", "owner-password")
            let secret = try await owner.registerInput(RegisterInputRequest(url: "data:,account%20balances", scheme: "raw", key: ""))
            // A manager registered by a function owner before this fix (a database from main).
            try await server.platform.database.write("test") { transaction in
                let legacy = try await transaction.users.get("bank-mgr")!
                _ = try await transaction.users.insert(UserRecord(
                    id: "legacy-mgr", role: "DataOwnerManager-bank", registeredBy: "fo", passwordHash: legacy.passwordHash, generation: 1,
                    createdAt: Date()))
            }
            // Step 2: the function owner resets the password of a manager (its own legacy one, and the bank's).
            #expect(try await fo.send(.POST, "/v1/users/legacy-mgr/password/reset").status == 403)
            #expect(try await fo.send(.POST, "/v1/users/bank-mgr/password/reset").status == 404)
            #expect(try await fo.send(.PATCH, "/v1/users/legacy-mgr", body: Data(#"{"role":"DataOwnerManager-bank"}"#.utf8)).status == 403)
            #expect(try await fo.send(.DELETE, "/v1/users/legacy-mgr").status == 403)
            // Step 3: a manager resets its data owner's password.
            #expect(try await manager.send(.POST, "/v1/users/bank-do/password/reset").status == 403)
            let legacyManager = try await server.session("legacy-mgr", "manager-password")
            #expect(try await legacyManager.send(.POST, "/v1/users/bank-do/password/reset").status == 404)
            // Step 4: so the function owner never learns a data owner's password, and as itself it
            // may not create a task over the owner's data.
            let function = try await fo.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi")]))
            let create = try await fo.send(.POST, "/v1/tasks", body: try WireFormat.encoder().encode(
                CreateTaskRequest(functionId: function.id, executor: "builtin", inputsOwnership: [:])))
            #expect(create.status == 403)
            #expect(try await fo.send(.GET, "/v1/inputs/\(secret.id)").status == 404)
            // The owner's account is untouched: its password still works; only the admin may reset it.
            _ = try await server.session("bank-do", "owner-password")
            let reset = try await admin.resetPassword("bank-do")
            _ = try await server.session("bank-do", reset)
            // Every refusal is in the audit log.
            let denied = try await admin.audit(limit: 200).filter { $0.decision == "denied" && $0.action == "user.reset_password" }
            #expect(denied.count == 4)
        }
    }
}
