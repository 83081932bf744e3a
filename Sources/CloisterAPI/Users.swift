import Foundation

/// `POST /v1/auth/login`.
public struct LoginRequest: Codable, Sendable {
    public var id: String
    public var password: String
    public init(id: String, password: String) {
        self.id = id
        self.password = password
    }
}

/// The answer to a login: a signed bearer token and when it expires.
public struct LoginResponse: Codable, Sendable {
    /// Goes in `Authorization: Bearer <token>`.
    public var token: String
    public var expiresAt: Date
    public var user: User
    public init(token: String, expiresAt: Date, user: User) {
        self.token = token
        self.expiresAt = expiresAt
        self.user = user
    }
}

/// A user account. `role` is `PlatformAdmin`, `FunctionOwner`, `DataOwnerManager-<attr>` or
/// `DataOwner-<attr>`.
public struct User: Codable, Sendable, Equatable {
    public var id: String
    public var role: String
    /// Who registered the user (nil for the first admin).
    public var registeredBy: String?
    public var createdAt: Date
    public init(id: String, role: String, registeredBy: String?, createdAt: Date) {
        self.id = id
        self.role = role
        self.registeredBy = registeredBy
        self.createdAt = createdAt
    }
}

/// `POST /v1/users`.
public struct RegisterUserRequest: Codable, Sendable {
    public var id: String
    public var password: String
    public var role: String
    public init(id: String, password: String, role: String) {
        self.id = id
        self.password = password
        self.role = role
    }
}

/// `PATCH /v1/users/{id}`.
public struct UpdateUserRequest: Codable, Sendable {
    public var role: String?
    public init(role: String? = nil) {
        self.role = role
    }
}

/// `POST /v1/users/{id}/password`: a user changes its own password.
public struct ChangePasswordRequest: Codable, Sendable {
    public var oldPassword: String
    public var newPassword: String
    public init(oldPassword: String, newPassword: String) {
        self.oldPassword = oldPassword
        self.newPassword = newPassword
    }
}

/// The answer to `POST /v1/users/{id}/password/reset`: a new random password, shown once.
public struct ResetPasswordResponse: Codable, Sendable {
    public var password: String
    public init(password: String) {
        self.password = password
    }
}

/// `GET /v1/users`.
public struct UserList: Codable, Sendable {
    public var users: [User]
    public init(users: [User]) {
        self.users = users
    }
}
