import Crypto
import Foundation
import ProtectedFiles

/// What wraps the data keys the database keeps: a key-encryption key (KEK) that the database
/// never holds.
///
/// This protocol is the seam for a key-management service: an implementation that asks a KMS to
/// wrap and unwrap fits here unchanged. The platform only ever wraps a data key for one record
/// (`context` is the record's id, bound into what is authenticated, so a wrapped key copied to
/// another record does not open) and unwraps it for a worker about to run a task.
public protocol KeyEncryptionKey: Sendable {
    /// A short public name of this KEK, written into every key it wraps, so that a key wrapped by
    /// another KEK is reported as such rather than as damaged.
    var identifier: String { get }
    /// `key` wrapped for the record `context`, as text (never hex, so it is never taken for a clear key).
    func wrap(_ key: [UInt8], context: String) async throws(KeyWrapError) -> String
    /// The key that `wrap` wrapped for `context`.
    func unwrap(_ wrapped: String, context: String) async throws(KeyWrapError) -> [UInt8]
}

/// Why a data key could not be wrapped or unwrapped.
public enum KeyWrapError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key was wrapped by another KEK (named by its identifier).
    case otherKEK(String)
    /// The wrapped text is damaged or belongs to another record.
    case damaged
    /// The KEK cannot be used (a KMS that does not answer, a missing file).
    case unavailable(String)

    public var description: String {
        switch self {
        case .otherKEK(let identifier):
            return "the key was wrapped by another key-encryption key (\(identifier)); start the platform with the KEK it was created with"
        case .damaged: return "a wrapped data key is damaged or was moved to another record"
        case .unavailable(let detail): return "the key-encryption key is unavailable: \(detail)"
        }
    }
}

/// A KEK of 32 bytes held in memory, loaded from a file the operator keeps outside the database
/// (by default `<data>/secrets/kek.key`, created 0600 on first use): AES-256-GCM with a fresh
/// random 12-byte nonce per wrap, stored with the ciphertext.
///
/// Wrapped form: `kek1:<identifier>:<base64(nonce ‖ ciphertext ‖ tag)>`, authenticated data
/// `cloister/v1/data-key/<context>`.
public struct LocalKeyEncryptionKey: KeyEncryptionKey {
    private let keyBytes: [UInt8]
    public let identifier: String
    static let prefix = "kek1:"

    /// A KEK of exactly 32 bytes.
    public init(bytes: [UInt8]) throws(KeyWrapError) {
        guard bytes.count == 32 else { throw .unavailable("a key-encryption key has 32 bytes, got \(bytes.count)") }
        keyBytes = bytes
        identifier = String(Hex.encode(SHA256.hash(data: Array("cloister/v1/kek-id".utf8) + bytes)).prefix(16))
    }

    /// The KEK in the file at `path`: 32 raw bytes or 64 hex digits (a trailing newline allowed).
    public static func load(path: String) throws(KeyWrapError) -> LocalKeyEncryptionKey {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unavailable("cannot read \(path)")
        }
        if data.count == 32 { return try LocalKeyEncryptionKey(bytes: Array(data)) }
        let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let bytes = try? Hex.decode(text), bytes.count == 32 else {
            throw .unavailable("\(path) holds neither 32 raw bytes nor 64 hex digits")
        }
        return try LocalKeyEncryptionKey(bytes: bytes)
    }

    /// The KEK at `path`, created (32 random bytes, mode 0600, exclusively) if there is none.
    public static func loadOrCreate(path: String) throws(KeyWrapError) -> LocalKeyEncryptionKey {
        if FileManager.default.fileExists(atPath: path) { return try load(path: path) }
        let bytes = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        guard SecretFile.create(bytes, at: path) else {
            // Another process (a server and its workers started at once) made it first: use theirs.
            if errno == EEXIST { return try load(path: path) }
            throw .unavailable("cannot create \(path)")
        }
        return try LocalKeyEncryptionKey(bytes: bytes)
    }

    private func associatedData(_ context: String) -> [UInt8] { Array("cloister/v1/data-key/\(context)".utf8) }

    public func wrap(_ key: [UInt8], context: String) throws(KeyWrapError) -> String {
        do {
            let box = try AES.GCM.seal(key, using: SymmetricKey(data: keyBytes), nonce: AES.GCM.Nonce(), authenticating: associatedData(context))
            return Self.prefix + identifier + ":" + box.combined!.base64EncodedString()
        } catch {
            throw .unavailable("AES-GCM failed: \(error)")
        }
    }

    public func unwrap(_ wrapped: String, context: String) throws(KeyWrapError) -> [UInt8] {
        let parts = wrapped.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, wrapped.hasPrefix(Self.prefix) else { throw .damaged }
        guard parts[1] == identifier else { throw .otherKEK(String(parts[1])) }
        guard let combined = Data(base64Encoded: String(parts[2])), let box = try? AES.GCM.SealedBox(combined: combined),
            let key = try? AES.GCM.open(box, using: SymmetricKey(data: keyBytes), authenticating: associatedData(context))
        else { throw .damaged }
        return Array(key)
    }
}
