import Foundation

/// A key that signs task receipts (`GET /v1/workers`): a worker's identity key, or the platform's
/// own (`kind` `platform`), which signs the receipts of tasks no worker finished. A receipt's
/// `signer.key_id` names the key; verify it with `public_key` (docs/receipts.md).
public struct WorkerKey: Codable, Sendable, Equatable {
    /// The lowercase hex SHA-256 of the 32-byte public key.
    public var keyId: String
    /// `worker` or `platform`.
    public var kind: String
    /// The Ed25519 public key, 32 bytes in lowercase hex.
    public var publicKey: String
    /// The worker pool that registered it last (`<host>:<pid>:<random>`), or `platform`.
    public var name: String
    public var registeredAt: Date
    public var lastSeenAt: Date
    /// Whether a worker pool using it runs now (always true for the platform's key).
    public var active: Bool

    public init(keyId: String, kind: String, publicKey: String, name: String, registeredAt: Date, lastSeenAt: Date, active: Bool) {
        self.keyId = keyId
        self.kind = kind
        self.publicKey = publicKey
        self.name = name
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
        self.active = active
    }
}

/// `GET /v1/workers`: every key that ever signed (or may sign) a receipt, oldest first.
public struct WorkerKeyList: Codable, Sendable {
    public var workers: [WorkerKey]
    public init(workers: [WorkerKey]) { self.workers = workers }
}

/// `GET /v1/attestation`: what this platform states about itself. In this version the operator is
/// trusted and `evidence` is always null; with hardware attestation it will hold the SGX, TDX or
/// SEV-SNP quote that binds the signing keys to the code that runs (docs/receipts.md).
public struct Attestation: Codable, Sendable, Equatable {
    /// The platform's own key.
    public var platform: WorkerKey
    /// The worker keys registered (as `GET /v1/workers`).
    public var workers: [WorkerKey]
    /// Hardware evidence (null in this version).
    public var evidence: String?

    public init(platform: WorkerKey, workers: [WorkerKey], evidence: String? = nil) {
        self.platform = platform
        self.workers = workers
        self.evidence = evidence
    }

    enum CodingKeys: String, CodingKey { case platform, workers, evidence }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(platform, forKey: .platform)
        try container.encode(workers, forKey: .workers)
        try container.encode(evidence, forKey: .evidence)  // null, never absent
    }
}

/// `GET /v1/audit/head`: the newest audit entry and the newest receipt, the ends of the two chains.
public struct AuditHead: Codable, Sendable, Equatable {
    /// The newest audit entry's sequence number and SHA-256.
    public var sequence: Int
    public var sha256: String
    /// How many receipts were issued, and the newest one's SHA-256 (null before the first).
    public var receiptSequence: Int
    public var receiptSha256: String?

    public init(sequence: Int, sha256: String, receiptSequence: Int, receiptSha256: String?) {
        self.sequence = sequence
        self.sha256 = sha256
        self.receiptSequence = receiptSequence
        self.receiptSha256 = receiptSha256
    }

    enum CodingKeys: String, CodingKey { case sequence, sha256, receiptSequence, receiptSha256 }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sequence, forKey: .sequence)
        try container.encode(sha256, forKey: .sha256)
        try container.encode(receiptSequence, forKey: .receiptSequence)
        try container.encode(receiptSha256, forKey: .receiptSha256)
    }
}
