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
    let database: PlatformDatabase

    private static let fingerprintKeyName = "fingerprint_key"

    /// Opens the keys of `database` with `kek`: reads (or, on a database that has none yet,
    /// creates) the fingerprint key, which also proves that `kek` is this database's KEK.
    static func open(database: PlatformDatabase, kek: any KeyEncryptionKey) async throws -> DataKeys {
        DataKeys(kek: kek, fingerprintKey: try await PlatformSecrets.key(fingerprintKeyName, in: database, kek: kek), database: database)
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

    /// Records, in `transaction`, that the pair `fingerprint` belongs to `fileId` unless it belongs
    /// to a file already; the file it belongs to (`fileId` when it was free).
    static func claim(_ fingerprint: String, for fileId: String, in transaction: Transaction) async throws -> String {
        try await transaction.sql.insert(into: "key_uses").columns("fingerprint", "file_id")
            .values(SQLBind(fingerprint), SQLBind(fileId)).ignoringConflicts(with: "fingerprint").run()
        return try await transaction.sql.select().column("file_id").from("key_uses").where("fingerprint", .equal, fingerprint)
            .first(decodingColumn: "file_id", as: String.self) ?? fileId
    }

    /// As above, in a transaction of its own (a worker about to encrypt an output).
    func claim(_ fingerprint: String, for fileId: String) async throws -> String {
        try await database.write("data.key_use") { transaction in try await Self.claim(fingerprint, for: fileId, in: transaction) }
    }

    /// Whether a stored key is in the clear: hex digits only (wrapped keys never are).
    static func isClear(_ text: String) -> Bool {
        text.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x61...0x66).contains($0) || (0x41...0x46).contains($0) }
    }

    /// Wraps every key still stored in the clear (a database from before keys were wrapped) and
    /// records the (key, IV) pairs of its aes-gcm files, oldest first; how many keys it wrapped.
    func wrapClearKeys() async throws -> Int {
        var wrapped = 0
        let records = try await database.read { sql in try await RecordTable<FileRecord>(sql: sql).list() }
        for record in records.sorted(by: { $0.createdAt < $1.createdAt }) where Self.isClear(record.key) {
            let clear = try Validation.hex(record.key, field: "key")
            let pair = try record.iv.flatMap { text in
                Scheme(rawValue: record.scheme)?.takesIV == true ? fingerprint(key: clear, iv: try Validation.hex(text, field: "iv")) : nil
            }
            let sealed = try await kek.wrap(clear, context: record.id)
            try await database.write("data.wrap_key") { transaction in
                if let pair { _ = try await Self.claim(pair, for: record.id, in: transaction) }
                try await transaction.files.modify(record.id) { stored in
                    guard Self.isClear(stored.key) else { return false }
                    stored.key = sealed
                    return true
                }
            }
            wrapped += 1
        }
        return wrapped
    }
}
