import Crypto
import Foundation
import ProtectedFiles

/// An Ed25519 key that signs task receipts: a worker's identity (kept in its data folder, or given
/// by the operator) or the platform's own (kept in the database, wrapped by the KEK, shared by
/// every server and worker: it signs the receipts of tasks that no worker finished — canceled
/// ones, and those whose worker was lost on every attempt).
///
/// Its public key is registered in `worker_keys` and published (`GET /v1/workers`,
/// `GET /v1/attestation`); its id is the lowercase hex SHA-256 of the 32-byte public key. With
/// hardware attestation, a quote binding this public key goes in the attestation's `evidence`.
public struct SigningIdentity: Sendable {
    /// Whose key it is.
    public enum Kind: String, Sendable, Codable {
        case worker
        case platform
    }

    public let kind: Kind
    /// The 32-byte private key (swift-crypto's key type is not `Sendable` on every platform, so
    /// the key is made again for each signature: a few microseconds).
    private let seed: [UInt8]
    /// The 32-byte public key in lowercase hex.
    public let publicKeyHex: String
    /// The key's id: the lowercase hex SHA-256 of its 32-byte public key.
    public let keyId: String

    init(kind: Kind, seed: [UInt8]) throws(PlatformSetupError) {
        let key: Curve25519.Signing.PrivateKey
        do {
            key = try Curve25519.Signing.PrivateKey(rawRepresentation: seed)
        } catch {
            throw PlatformSetupError("an Ed25519 key is 32 bytes; this one is \(seed.count)")
        }
        self.kind = kind
        self.seed = seed
        publicKeyHex = Hex.encode(key.publicKey.rawRepresentation)
        keyId = Self.keyId(of: Array(key.publicKey.rawRepresentation))
    }

    static func keyId(of publicKey: [UInt8]) -> String { Hex.encode(SHA256.hash(data: publicKey)) }

    /// The Ed25519 signature of `message` (64 bytes).
    func sign(_ message: [UInt8]) throws -> [UInt8] {
        Array(try Curve25519.Signing.PrivateKey(rawRepresentation: seed).signature(for: message))
    }

    /// A worker's key from the file at `path`: created (0600) when missing and `create` is true.
    /// A file that others may read or write, or that is not a 32-byte key (raw, or 64 hex digits),
    /// is refused: a key anyone else can read signs nothing for its worker.
    static func worker(path: String, create: Bool) throws(PlatformSetupError) -> SigningIdentity {
        if create, access(path, F_OK) != 0 {
            let seed = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            guard SecretFile.create(Array((Hex.encode(seed) + "\n").utf8), at: path) else {
                if access(path, F_OK) == 0 { return try worker(path: path, create: false) }  // another process made it first
                throw PlatformSetupError("cannot create the worker key \(path): \(String(cString: strerror(errno)))")
            }
        }
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PlatformSetupError("cannot read the worker key \(path): \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw PlatformSetupError("the worker key \(path) is not a regular file") }
        guard info.st_mode & 0o077 == 0 else {
            throw PlatformSetupError(
                "the worker key \(path) may be read or written by others (mode \(String(info.st_mode & 0o777, radix: 8))): make it private with `chmod 600 \(path)`, or give a new key")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw PlatformSetupError("cannot read the worker key \(path)")
        }
        var seed = Array(data)
        if seed.count != 32 {
            guard let decoded = try? Hex.decode(String(decoding: data, as: UTF8.self)), decoded.count == 32 else {
                throw PlatformSetupError("the worker key \(path) is not an Ed25519 key: 32 bytes, raw or as 64 hex digits")
            }
            seed = decoded
        }
        return try SigningIdentity(kind: .worker, seed: seed)
    }
}

/// Where a worker's identity key comes from.
public enum WorkerKeySource: Sendable, Equatable {
    /// A file in the data folder, created on first start.
    case dataFolder
    /// A file the operator made (`--worker-key`, `CLOISTER_WORKER_KEY`): it must exist.
    case file(String)
}
