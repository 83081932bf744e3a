import CloisterAPI
import Foundation
import LibOS
import ProtectedFiles
import SQLKit

/// Input and output files: registered by data owners (and their managers), seen only by their owners.
public struct DataService: Sendable {
    let database: PlatformDatabase
    let audit: AuditLog
    /// Wraps the keys the table keeps; the fingerprints of aes-gcm (key, IV) pairs.
    let keys: DataKeys
    /// The folders `file://` URLs may point into.
    let roots: [String]
    /// Where the platform keeps outputs registered without a URL.
    let outputFolder: String
    /// Where http(s) inputs may come from.
    let httpInputs: HTTPInputPolicy
    /// How written outputs are moved into place.
    let delivery: OutputDelivery
    /// What is checked at registration rather than when a task runs.
    let early: EarlyValidation

    private func checkRole(_ caller: Caller) throws(PlatformError) {
        guard caller.role.usesData else { throw .forbidden("a \(caller.role) may not register data") }
    }

    private func checkKey(scheme text: String, key: String, iv: String?) throws(PlatformError) -> Scheme {
        let scheme: Scheme
        do { scheme = try Scheme(parsing: text) } catch { throw .field("scheme", "\(error)") }
        let keyBytes = try Validation.hex(key, field: "key")
        let ivBytes = try iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") }
        do { try scheme.validate(key: keyBytes, iv: ivBytes) } catch {
            let field: String
            switch error {
            case .missingIV, .badIVSize, .unexpectedIV: field = "iv"
            default: field = "key"
            }
            throw .field(field, "\(error)")
        }
        return scheme
    }

    /// Checks an input's location beyond its syntax: a `file://` URL names a file (not a folder),
    /// an http(s) URL whose host is an address names one the operator allows.
    private func checkInputLocation(_ location: DataLocation) throws(PlatformError) {
        switch location {
        case .file(let path):
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                throw .field("url", "names a folder; an input is one file")
            }
        case .http(let url):
            let host = url.host ?? ""
            let literal = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            if let address = IPAddress(parsing: literal), let range = httpInputs.refusal(of: address) {
                throw .field("url", "\(literal) is a \(range) address, which this server does not download from (the operator may allow it)")
            }
        case .inline:
            break
        }
    }

    /// The wrapped key of a new record `id` and, for aes-gcm, the fingerprint of its (key, IV) pair.
    private func sealKey(_ key: String, iv: String?, scheme: Scheme, for id: String) async throws -> (wrapped: String, fingerprint: String?) {
        let fingerprint = try scheme.takesIV
            ? keys.fingerprint(key: Validation.hex(key, field: "key"), iv: Validation.hex(iv ?? "", field: "iv")) : nil
        return (try await keys.wrap(hex: key, for: id), fingerprint)
    }

    private static let reusedPair =
        "this key and IV have been used on this platform already; AES-GCM must never encrypt twice under one pair: draw a fresh IV (cloister keygen)"

    private static func insert(_ record: FileRecord, in transaction: Transaction) async throws {
        _ = try await transaction.files.insert(record)
        for owner in record.owners {
            try await transaction.sql.insert(into: "file_owners").columns("file_id", "user_id")
                .values(SQLBind(record.id), SQLBind(owner)).run()
        }
    }

    public func registerInput(_ caller: Caller, _ request: RegisterInputRequest) async throws -> DataFile {
        try await audit.call(user: caller.id, action: "data.register_input", created: { $0.id }, prepare: { () async throws -> (FileRecord, String?) in
            try checkRole(caller)
            let scheme = try checkKey(scheme: request.scheme, key: request.key, iv: request.iv)
            let location = try DataLocation.parse(request.url, roots: roots, field: "url")
            if scheme == .raw, case .inline = location {} else if scheme == .raw {
                throw PlatformError.field("scheme", "a raw (plaintext) input must be a data: URL; a file or download must be encrypted")
            }
            try checkInputLocation(location)
            var tagBytes: [UInt8]?
            if let tag = request.tag {
                let bytes = try Validation.hex(tag, field: "tag")
                guard scheme != .raw else { throw PlatformError.field("tag", "a raw input has no tag") }
                guard !bytes.isEmpty else { throw PlatformError.field("tag", "must not be empty") }
                try EarlyValidation.tag(bytes, scheme: scheme)
                tagBytes = bytes
            }
            try await early.input(
                location, scheme: scheme, key: try Validation.hex(request.key, field: "key"),
                iv: try request.iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") }, tag: tagBytes)
            let id = "input-" + UUID().uuidString.lowercased()
            let (wrapped, fingerprint) = try await sealKey(request.key, iv: request.iv, scheme: scheme, for: id)
            let record = FileRecord(
                id: id, kind: .input, url: request.url, scheme: scheme.rawValue,
                key: wrapped, iv: request.iv?.lowercased(), tag: request.tag?.lowercased(), owners: [caller.id],
                createdBy: caller.id, createdAt: Date())
            return (record, fingerprint)
        }) { transaction, prepared in
            let (record, fingerprint) = prepared
            if let fingerprint {
                // The same file registered twice is fine; a pair an output holds is not (the
                // platform encrypts that output under it).
                let holder = try await DataKeys.claim(fingerprint, for: record.id, in: transaction)
                if holder != record.id, try await transaction.files.get(holder)?.kind != .input {
                    throw PlatformError.field("iv", Self.reusedPair)
                }
            }
            try await Self.insert(record, in: transaction)
            return record.api
        }
    }

    public func registerOutput(_ caller: Caller, _ request: RegisterOutputRequest) async throws -> DataFile {
        try await audit.call(user: caller.id, action: "data.register_output", created: { $0.id }, prepare: { () async throws -> (FileRecord, String?) in
            try checkRole(caller)
            let scheme = try checkKey(scheme: request.scheme, key: request.key, iv: request.iv)
            guard scheme != .raw else { throw PlatformError.field("scheme", "an output must be encrypted (raw is for inputs only)") }
            if let url = request.url {
                guard case .file(let path) = try DataLocation.parse(url, roots: roots, field: "url") else {
                    throw PlatformError.field("url", "an output goes to a file:// URL (or leave url out)")
                }
                try EarlyValidation.output(path)
            }
            let owners = Array(Set(request.owners ?? [caller.id])).sorted()
            guard owners.count <= 100 else { throw PlatformError.field("owners", "more than 100 owners") }
            for (index, owner) in owners.enumerated() { try Validation.identifier(owner, field: "owners[\(index)]") }
            guard owners.contains(caller.id) else { throw PlatformError.field("owners", "must include the caller, \(caller.id)") }
            let id = "output-" + UUID().uuidString.lowercased()
            let (wrapped, fingerprint) = try await sealKey(request.key, iv: request.iv, scheme: scheme, for: id)
            let record = FileRecord(
                id: id, kind: .output, url: request.url, scheme: scheme.rawValue,
                key: wrapped, iv: request.iv?.lowercased(), tag: nil, owners: owners,
                createdBy: caller.id, createdAt: Date())
            return (record, fingerprint)
        }) { transaction, prepared in
            let (record, fingerprint) = prepared
            try await EarlyValidation.dataOwners(record.owners, in: transaction.users) { _ in "owners" }
            // The platform will encrypt under this pair: it must be one it has never seen.
            if let fingerprint, try await DataKeys.claim(fingerprint, for: record.id, in: transaction) != record.id {
                throw PlatformError.field("iv", Self.reusedPair)
            }
            try await Self.insert(record, in: transaction)
            return record.api
        }
    }

    /// An input over a written output: same location, key, owners and tag.
    public func registerInputFromOutput(_ caller: Caller, _ request: RegisterInputFromOutputRequest) async throws -> DataFile {
        try await audit.call(
            user: caller.id, action: "data.register_input_from_output", object: request.outputId, created: { $0.id },
            prepare: { () async throws -> FileRecord in
                try checkRole(caller)
                let output = try await owned(caller, request.outputId, kind: .output)
                guard let tag = output.tag else {
                    throw PlatformError.conflict("output \(output.id) has not been written yet")
                }
                // Its file in place before anything reads it (a worker that stopped after the commit).
                delivery.settle(output, destination: try destination(of: output))
                // The same ciphertext under the same key: nothing new is encrypted, so the (key, IV)
                // pair stays the output's. The key is wrapped again, for the new record.
                let id = "input-" + UUID().uuidString.lowercased()
                let key = try await keys.kek.wrap(try await keys.key(of: output), context: id)
                return FileRecord(
                    id: id, kind: .input,
                    url: output.url, scheme: output.scheme, key: key, iv: output.iv,
                    tag: tag, owners: output.owners, sourceOutput: output.url == nil ? output.id : nil,
                    createdBy: caller.id, createdAt: Date())
            }
        ) { transaction, record in
            try await Self.insert(record, in: transaction)
            return record.api
        }
    }

    /// A file of `kind` the caller owns, or 404.
    func owned(_ caller: Caller, _ id: String, kind: FileRecord.Kind) async throws -> FileRecord {
        try Self.owned(caller, id, kind: kind, record: try await database.record(FileRecord.self, id))
    }

    private static func owned(_ caller: Caller, _ id: String, kind: FileRecord.Kind, record: FileRecord?) throws(PlatformError) -> FileRecord {
        guard let record, record.kind == kind, record.owners.contains(caller.id) else {
            throw PlatformError.notFound("no \(kind.rawValue) file \(id)")
        }
        return record
    }

    /// A file the caller owns. Its audit entry commits with the next durable write (a read changes
    /// nothing a caller is told about).
    public func get(_ caller: Caller, _ id: String, kind: DataFileKind) async throws -> DataFile {
        try await audit.call(user: caller.id, action: "data.get", object: id, durability: .deferred) { transaction in
            try Self.owned(caller, id, kind: kind, record: try await transaction.files.get(id)).api
        }
    }

    public func list(_ caller: Caller, kind: DataFileKind) async throws -> [DataFile] {
        try await database.read { sql in
            let ids = try await sql.select().column("file_id").from("file_owners").where("user_id", .equal, caller.id)
                .all(decodingColumn: "file_id", as: String.self)
            return try await RecordTable<FileRecord>(sql: sql).list(ids: ids).filter { $0.kind == kind }.map(\.api)
        }
    }

    /// Where the written output `id` is on this host, for its owners to download.
    public func outputContentPath(_ caller: Caller, _ id: String) async throws -> String {
        try await audit.call(user: caller.id, action: "data.download_output", object: id, durability: .deferred, prepare: {
            let record = try await owned(caller, id, kind: .output)
            guard record.tag != nil else { throw PlatformError.conflict("output \(id) has not been written yet") }
            let path = try destination(of: record)
            delivery.settle(record, destination: path)
            guard FileManager.default.fileExists(atPath: path) else {
                throw PlatformError.conflict("output \(id) was written but its file is gone from \(record.url ?? "the platform's store")")
            }
            return path
        }) { _, path in path }
    }

    /// The host path an output is written to, or a file input read from (an input without a URL
    /// is a kept output's).
    func destination(of record: FileRecord) throws -> String {
        guard let url = record.url else { return outputPath(record.sourceOutput ?? record.id) }
        guard case .file(let path) = try DataLocation.parse(url, roots: roots, field: "url") else {
            throw PlatformError.conflict("output \(record.id) is not a file")
        }
        return path
    }

    func outputPath(_ id: String) -> String { outputFolder + "/" + id }
}
