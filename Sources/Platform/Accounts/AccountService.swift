import CloisterAPI
import Foundation
import Logging

/// Users: registration by role, login, tokens, passwords.
///
/// Who may register whom is `Role.mayRegister`. A user is visible to itself, to admins and to
/// whoever registered it; to anyone else it does not exist (404). Updating and deleting a user
/// needs the right to register its role and, for non-admins, to be the one who registered it.
/// Only an admin resets a password (a user changes its own).
///
/// Logins are throttled per client address and per account before any password is checked
/// (`LoginThrottle`), and passwords are hashed on a bounded pool of their own (`BcryptPool`).
public struct AccountService: Sendable {
    let database: PlatformDatabase
    let hasher: PasswordHasher
    let signer: TokenSigner
    let audit: AuditLog
    let throttle: LoginThrottle
    /// A hash of a random password, checked against for unknown users.
    let decoyHash: String

    /// Creates the first admin when there are no users: `admin` with `password`, or with a random
    /// password that is returned (to be shown once). Nil when users exist already.
    func bootstrapAdmin(password: String?) async throws -> (id: String, password: String, generated: Bool)? {
        let empty = try await database.read { sql in try await sql.select().column("id").from("users").limit(1).first() == nil }
        guard empty else { return nil }
        // A chosen password follows the rules of every other (bcrypt would cut a longer one).
        if let password { try Validation.password(password, field: "CLOISTER_ADMIN_PASSWORD") }
        let chosen = password ?? PasswordHasher.randomPassword()
        let record = UserRecord(
            id: "admin", role: Role.platformAdmin.description, registeredBy: nil,
            passwordHash: try await hasher.hash(chosen), generation: 1, createdAt: Date())
        // Another server starting at the same moment may create it first: then this one shows nothing.
        let created = try await database.write("user.bootstrap") { transaction in
            guard try await transaction.sql.select().column("id").from("users").limit(1).first() == nil,
                try await transaction.users.insert(record)
            else { return false }
            try await transaction.audit(user: "-", action: "user.bootstrap", object: "admin", allowed: true)
            return true
        }
        guard created else { return nil }
        return ("admin", chosen, password == nil)
    }

    /// Checks a password and signs a token. Unknown users and wrong passwords get the same answer.
    /// `address` is the client's address, for the per-address limit (nil: not counted).
    ///
    /// An id that is not a valid user id is refused before anything is looked up or hashed, and
    /// recorded without the id itself: the audit log never holds unchecked text from a caller.
    /// An attempt past a limit is refused before that; only the first refusal of each lock is
    /// recorded, so a flood adds a bounded number of entries.
    public func login(_ request: LoginRequest, address: String? = nil) async throws -> LoginResponse {
        let valid = Validation.isIdentifier(request.id)
        do {
            try throttle.admit(account: valid ? request.id : nil, address: address)
        } catch {
            if error.isFirst {
                await audit.record(
                    user: valid ? request.id : "-", action: "user.login", object: valid ? request.id : "", allowed: false,
                    detail: "throttled: \(error.error.description)")
            }
            throw error.error
        }
        guard valid else {
            await audit.record(
                user: "-", action: "user.login", allowed: false, detail: "malformed user id (\(request.id.utf8.count) bytes)")
            throw PlatformError.unauthorized("wrong user id or password")
        }
        let record = try await database.record(UserRecord.self, request.id)
        // A user who does not exist still costs a hash, so timing does not tell the two apart.
        let live = record?.deleted == false ? record : nil
        let matches = try await hasher.verify(request.password, against: live?.passwordHash ?? decoyHash)
        guard let record = live, matches else {
            throttle.failed(account: request.id)
            await audit.record(user: request.id, action: "user.login", object: request.id, allowed: false, detail: "bad credentials")
            throw PlatformError.unauthorized("wrong user id or password")
        }
        throttle.succeeded(account: record.id)
        let (token, expiresAt) = signer.sign(user: record.id, generation: record.generation)
        await audit.record(user: record.id, action: "user.login", object: record.id, allowed: true)
        return LoginResponse(token: token, expiresAt: expiresAt, user: record.api)
    }

    /// The caller a bearer token stands for; 401 unless it verifies, has not expired, was not
    /// ended by a logout and its user still exists at the same credential generation.
    public func authenticate(token: String) async throws -> Caller {
        guard let claims = signer.verify(token) else { throw PlatformError.unauthorized("the token is invalid or expired; log in again") }
        let record = try await database.read { sql -> UserRecord? in
            guard let record = try await RecordTable<UserRecord>(sql: sql).get(claims.sub), !record.deleted,
                record.generation == claims.gen, try await !TokenRevocations.isRevoked(claims.jti, sql)
            else { return nil }
            return record
        }
        guard let record else { throw PlatformError.unauthorized("the token is invalid or expired; log in again") }
        return Caller(id: record.id, role: record.parsedRole)
    }

    /// Ends `token` (a logout): it never works again; the user's other tokens still do.
    public func logout(_ caller: Caller, token: String) async throws {
        guard let claims = signer.verify(token), claims.sub == caller.id else {
            throw PlatformError.unauthorized("the token is invalid or expired; log in again")
        }
        try await audit.call(user: caller.id, action: "user.logout", object: caller.id) { transaction in
            try await TokenRevocations.revoke(claims.jti, expiresAt: claims.exp, in: transaction)
        }
    }

    public func register(_ caller: Caller, _ request: RegisterUserRequest) async throws -> User {
        try await audit.call(user: caller.id, action: "user.register", object: request.id, prepare: { () async throws -> UserRecord in
            try Validation.identifier(request.id, field: "id")
            try Validation.password(request.password, field: "password")
            guard let role = Role(request.role) else {
                throw PlatformError.field("role", "must be \(Role.forms), got \(Validation.quoted(request.role))")
            }
            guard caller.role.mayRegister(role) else {
                throw PlatformError.forbidden("a \(caller.role) may not register a \(role)")
            }
            return UserRecord(
                id: request.id, role: role.description, registeredBy: caller.id,
                passwordHash: try await hasher.hash(request.password), generation: 1, createdAt: Date())
        }) { transaction, record in
            guard try await transaction.users.insert(record) else {
                throw PlatformError.conflict("the user id \(request.id) is taken (ids of deleted users are never reused)")
            }
            return record.api
        }
    }

    /// A user the caller may see, or 404.
    private static func visible(_ caller: Caller, _ id: String, _ record: UserRecord?) throws(PlatformError) -> UserRecord {
        guard let record, !record.deleted, record.id == caller.id || caller.isAdmin || record.registeredBy == caller.id
        else { throw PlatformError.notFound("no user \(id)") }
        return record
    }

    /// A user the caller may manage (visible and of a role it may register; not itself), or 403/404.
    private static func managed(_ caller: Caller, _ id: String, _ found: UserRecord?) throws(PlatformError) -> UserRecord {
        let record = try visible(caller, id, found)
        guard record.id != caller.id else { throw PlatformError.forbidden("a user may not manage its own account this way") }
        guard caller.role.mayRegister(record.parsedRole) else {
            throw PlatformError.forbidden("a \(caller.role) may not manage a \(record.role)")
        }
        return record
    }

    /// A user the caller may see. Its audit entry commits with the next durable write (a read
    /// changes nothing a caller is told about).
    public func get(_ caller: Caller, _ id: String) async throws -> User {
        try await audit.call(user: caller.id, action: "user.get", object: id, durability: .deferred) { transaction in
            try Self.visible(caller, id, try await transaction.users.get(id)).api
        }
    }

    /// Admins see every user; others the users they registered, and themselves.
    public func list(_ caller: Caller) async throws -> [User] {
        try await database.read { sql in
            let users = RecordTable<UserRecord>(sql: sql)
            let records = caller.isAdmin ? try await users.list() : try await users.list(where: "registered_by", equals: caller.id)
            var result = records.filter { !$0.deleted }.map(\.api)
            if !caller.isAdmin, let me = try await users.get(caller.id) { result.insert(me.api, at: 0) }
            return result
        }
    }

    public func update(_ caller: Caller, _ id: String, _ request: UpdateUserRequest) async throws -> User {
        try await audit.call(user: caller.id, action: "user.update", object: id) { transaction in
            let current = try Self.managed(caller, id, try await transaction.users.get(id, lock: true))
            guard let text = request.role else { return current.api }
            guard let role = Role(text) else { throw PlatformError.field("role", "must be \(Role.forms), got \(Validation.quoted(text))") }
            guard caller.role.mayRegister(role) else { throw PlatformError.forbidden("a \(caller.role) may not give the role \(role)") }
            var record = current
            record.role = role.description
            return try await transaction.users.update(record).api
        }
    }

    public func delete(_ caller: Caller, _ id: String) async throws {
        try await audit.call(user: caller.id, action: "user.delete", object: id) { transaction in
            var record = try Self.managed(caller, id, try await transaction.users.get(id, lock: true))
            record.deleted = true
            record.passwordHash = ""
            record.generation += 1
            try await transaction.users.update(record)
        }
    }

    /// A user changes its own password, giving the old one. Its older tokens stop working.
    public func changePassword(_ caller: Caller, _ id: String, _ request: ChangePasswordRequest) async throws {
        try await audit.call(user: caller.id, action: "user.change_password", object: id, prepare: { () async throws -> (checked: UserRecord, hash: String) in
            let record = try Self.visible(caller, id, try await database.record(UserRecord.self, id))
            guard record.id == caller.id else { throw PlatformError.forbidden("only \(id) may change its password; use reset") }
            guard try await hasher.verify(request.oldPassword, against: record.passwordHash) else {
                throw PlatformError.forbidden("the old password is wrong")
            }
            try Validation.password(request.newPassword, field: "new_password")
            return (record, try await hasher.hash(request.newPassword))
        }) { transaction, prepared in
            // The old password was checked against this generation: another change since wins.
            guard var record = try await transaction.users.get(id, lock: true), !record.deleted,
                record.generation == prepared.checked.generation
            else { throw PlatformError.conflict("the password of \(id) changed meanwhile; try again") }
            record.passwordHash = prepared.hash
            record.generation += 1
            try await transaction.users.update(record)
        }
    }

    /// Sets a random password on a user and returns it; its tokens stop working. Admins only: a
    /// reset lets whoever makes it log in as the user, so no other party may make one.
    public func resetPassword(_ caller: Caller, _ id: String) async throws -> String {
        try await audit.call(user: caller.id, action: "user.reset_password", object: id, prepare: { () async throws -> (password: String, hash: String) in
            let record = try Self.visible(caller, id, try await database.record(UserRecord.self, id))
            guard caller.isAdmin, record.id != caller.id else {
                throw PlatformError.forbidden(
                    record.id == caller.id
                        ? "a user may not manage its own account this way; change the password with the old one"
                        : "only a PlatformAdmin may reset a password; \(id) can change its own")
            }
            let password = PasswordHasher.randomPassword()
            return (password, try await hasher.hash(password))
        }) { transaction, prepared in
            guard var record = try await transaction.users.get(id, lock: true), !record.deleted else {
                throw PlatformError.notFound("no user \(id)")
            }
            record.passwordHash = prepared.hash
            record.generation += 1
            try await transaction.users.update(record)
            return prepared.password
        }
    }
}
