import Foundation

/// One entry of the audit log: a state change or an access decision.
public struct AuditEntry: Codable, Sendable, Equatable {
    public var id: Int
    public var time: Date
    /// Who acted (`-` for the platform itself: workers, recovery).
    public var user: String
    /// What was asked (`task.approve`, `user.register`, …).
    public var action: String
    /// The object acted on (a task, function, file or user id; empty when none).
    public var object: String
    /// `allowed` or `denied`.
    public var decision: String
    public var detail: String
    public init(id: Int, time: Date, user: String, action: String, object: String, decision: String, detail: String) {
        self.id = id
        self.time = time
        self.user = user
        self.action = action
        self.object = object
        self.decision = decision
        self.detail = detail
    }
}

/// `GET /v1/audit` (admins only), newest first.
public struct AuditList: Codable, Sendable {
    public var entries: [AuditEntry]
    public init(entries: [AuditEntry]) {
        self.entries = entries
    }
}

/// `GET /v1/health`.
public struct HealthStatus: Codable, Sendable {
    public var status: String
    public var version: String
    public init(status: String, version: String) {
        self.status = status
        self.version = version
    }
}
