import Crypto
import Foundation
import ProtectedFiles
import SQLKit

/// The data keys of registered files as the database keeps them: wrapped by the key-encryption
/// key, each bound to its record's id, unwrapped only when a worker stages a task (or when an
/// output is chained into an input, to wrap it for the new record).
///
/// Also the keyed fingerprints of aes-gcm (key, IV) pairs (`key_uses`), by which the platform
/// refuses to encrypt twice under one pair: HMAC-SHA256 under a fingerprint key that is itself
/// kept wrapped in `platform_secrets`, so the table alone tells nothing about any key.
struct DataKeys: Sendable {
    let kek: any KeyEncryptionKey
    private let fingerprintKey: [UInt8]
    let sql: any SQLDatabase

    private static let fingerprintKeyName = "fingerprint_key"

    /// Opens the keys of the database behind `sql` with `kek`: reads (or, on a database that has
    /// none yet, creates) the fingerprint key, which also proves that `kek` is this database's KEK.
    static func open(sql: any SQLDatabase, kek: any KeyEncryptionKey) async throws -> DataKeys {
        let stored = try await sql.select().column("value").from("platform_secrets")
            .where("name", .equal, fingerprintKeyName).first(decodingColumn: "value", as: String.self)
        if let stored {
            do {
                return DataKeys(kek: kek, fingerprintKey: try await kek.unwrap(stored, context: fingerprintKeyName), sql: sql)
            } catch {
                throw PlatformSetupError("the key-encryption key \(kek.identifier) does not open this database's keys: \(error)")
            }
        }
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
        let wrapped = try await kek.wrap(key, context: fingerprintKeyName)
        try await sql.insert(into: "platform_secrets").columns("name", "value")
            .values(SQLBind(fingerprintKeyName), SQLBind(wrapped)).ignoringConflicts(with: "name").run()
        // Another process may have created it first: use the one stored.
        return try await open(sql: sql, kek: kek)
    }

    /// The data key `hex` (as registered) wrapped for the file `id`.
    func wrap(hex: String, for id: String) async throws -> String {
        try await kek.wrap(try Validation.hex(hex, field: "key"), context: id)
    }

    /// The data key of `record`.
    func key(of record: FileRecord) async throws(KeyWrapError) -> [UInt8] {
        try await kek.unwrap(record.key, context: record.id)
    }

    /// The fingerprint of an aes-gcm (key, IV) pair.
    func fingerprint(key: [UInt8], iv: [UInt8]) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: key + iv, using: SymmetricKey(data: fingerprintKey)))
    }

    /// Records that the pair `fingerprint` belongs to `fileId` unless it belongs to a file
    /// already; the file it belongs to (`fileId` when it was free).
    func claim(_ fingerprint: String, for fileId: String) async throws -> String {
        try await sql.insert(into: "key_uses").columns("fingerprint", "file_id")
            .values(SQLBind(fingerprint), SQLBind(fileId)).ignoringConflicts(with: "fingerprint").run()
        return try await holder(of: fingerprint) ?? fileId
    }

    /// The file the pair `fingerprint` belongs to, if any.
    func holder(of fingerprint: String) async throws -> String? {
        try await sql.select().column("file_id").from("key_uses").where("fingerprint", .equal, fingerprint)
            .first(decodingColumn: "file_id", as: String.self)
    }

    /// Whether a stored key is in the clear: hex digits only (wrapped keys never are).
    static func isClear(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }
    }

    /// Wraps every key still stored in the clear (a database from before keys were wrapped) and
    /// records the (key, IV) pairs of its aes-gcm files, oldest first; how many keys it wrapped.
    func wrapClearKeys(in files: RecordTable<FileRecord>) async throws -> Int {
        var wrapped = 0
        for record in try await files.list().sorted(by: { $0.createdAt < $1.createdAt }) where Self.isClear(record.key) {
            let clear = try Validation.hex(record.key, field: "key")
            if let ivText = record.iv, Scheme(rawValue: record.scheme)?.takesIV == true {
                _ = try await claim(fingerprint(key: clear, iv: try Validation.hex(ivText, field: "iv")), for: record.id)
            }
            let sealed = try await kek.wrap(clear, context: record.id)
            _ = try await files.modify(record.id) { stored in
                guard Self.isClear(stored.key) else { return false }
                stored.key = sealed
                return true
            }
            wrapped += 1
        }
        return wrapped
    }
}
