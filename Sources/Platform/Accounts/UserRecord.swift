import CloisterAPI
import Foundation

/// A user as stored: the API's `User` plus the password hash and credential generation.
struct UserRecord: StoredRecord {
    static let table = "users"
    var id: String
    var version = 0
    var role: String
    var registeredBy: String?
    var passwordHash: String
    /// Bumped by a password change or reset: tokens of an older generation stop working.
    var generation: Int
    var createdAt: Date
    /// A deleted user stays as a tombstone, so that its id (and what it owned) never passes to a
    /// new user and its tokens never work again.
    var deleted = false

    var indexColumns: [(String, any Encodable & Sendable)] { [("registered_by", registeredBy ?? "")] }

    var parsedRole: Role { Role(role)! }

    var api: User { User(id: id, role: role, registeredBy: registeredBy, createdAt: createdAt) }
}

/// Who is calling: an authenticated user and its role.
public struct Caller: Sendable, Equatable {
    public let id: String
    public let role: Role

    public init(id: String, role: Role) {
        self.id = id
        self.role = role
    }

    var isAdmin: Bool { role == .platformAdmin }
}
