import CloisterAPI
import Foundation
import ProtectedFiles
import SQLKit

/// Input and output files: registered by data owners (and their managers), seen only by their owners.
public struct DataService: Sendable {
    let files: RecordTable<FileRecord>
    let audit: AuditLog
    let sql: any SQLDatabase
    /// The folders `file://` URLs may point into.
    let roots: [String]
    /// Where the platform keeps outputs registered without a URL.
    let outputFolder: String

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

    private func insert(_ record: FileRecord) async throws {
        _ = try await files.insert(record)
        for owner in record.owners {
            try await sql.insert(into: "file_owners").columns("file_id", "user_id").values(SQLBind(record.id), SQLBind(owner)).run()
        }
    }

    public func registerInput(_ caller: Caller, _ request: RegisterInputRequest) async throws -> DataFile {
        try await audit.decision(user: caller.id, action: "data.register_input", created: { $0.id }) {
            try checkRole(caller)
            let scheme = try checkKey(scheme: request.scheme, key: request.key, iv: request.iv)
            let location = try DataLocation.parse(request.url, roots: roots, field: "url")
            if scheme == .raw, case .inline = location {} else if scheme == .raw {
                throw PlatformError.field("scheme", "a raw (plaintext) input must be a data: URL; a file or download must be encrypted")
            }
            if let tag = request.tag {
                let bytes = try Validation.hex(tag, field: "tag")
                guard scheme != .raw else { throw PlatformError.field("tag", "a raw input has no tag") }
                guard !bytes.isEmpty else { throw PlatformError.field("tag", "must not be empty") }
            }
            let record = FileRecord(
                id: "input-" + UUID().uuidString.lowercased(), kind: .input, url: request.url, scheme: scheme.rawValue,
                key: request.key.lowercased(), iv: request.iv?.lowercased(), tag: request.tag?.lowercased(), owners: [caller.id],
                createdBy: caller.id, createdAt: Date())
            try await insert(record)
            return record.api
        }
    }

    public func registerOutput(_ caller: Caller, _ request: RegisterOutputRequest) async throws -> DataFile {
        try await audit.decision(user: caller.id, action: "data.register_output", created: { $0.id }) {
            try checkRole(caller)
            let scheme = try checkKey(scheme: request.scheme, key: request.key, iv: request.iv)
            guard scheme != .raw else { throw PlatformError.field("scheme", "an output must be encrypted (raw is for inputs only)") }
            if let url = request.url {
                guard case .file = try DataLocation.parse(url, roots: roots, field: "url") else {
                    throw PlatformError.field("url", "an output goes to a file:// URL (or leave url out)")
                }
            }
            let owners = Array(Set(request.owners ?? [caller.id])).sorted()
            guard owners.count <= 100 else { throw PlatformError.field("owners", "more than 100 owners") }
            for (index, owner) in owners.enumerated() { try Validation.identifier(owner, field: "owners[\(index)]") }
            guard owners.contains(caller.id) else { throw PlatformError.field("owners", "must include the caller, \(caller.id)") }
            let record = FileRecord(
                id: "output-" + UUID().uuidString.lowercased(), kind: .output, url: request.url, scheme: scheme.rawValue,
                key: request.key.lowercased(), iv: request.iv?.lowercased(), tag: nil, owners: owners,
                createdBy: caller.id, createdAt: Date())
            try await insert(record)
            return record.api
        }
    }

    /// An input over a written output: same location, key, owners and tag.
    public func registerInputFromOutput(_ caller: Caller, _ request: RegisterInputFromOutputRequest) async throws -> DataFile {
        try await audit.decision(
            user: caller.id, action: "data.register_input_from_output", object: request.outputId, created: { $0.id }
        ) {
            try checkRole(caller)
            let output = try await owned(caller, request.outputId, kind: .output)
            guard let tag = output.tag else {
                throw PlatformError.conflict("output \(output.id) has not been written yet")
            }
            let record = FileRecord(
                id: "input-" + UUID().uuidString.lowercased(), kind: .input,
                url: output.url, scheme: output.scheme, key: output.key, iv: output.iv,
                tag: tag, owners: output.owners, sourceOutput: output.url == nil ? output.id : nil,
                createdBy: caller.id, createdAt: Date())
            try await insert(record)
            return record.api
        }
    }

    /// A file of `kind` the caller owns, or 404.
    func owned(_ caller: Caller, _ id: String, kind: FileRecord.Kind) async throws -> FileRecord {
        guard let record = try await files.get(id), record.kind == kind, record.owners.contains(caller.id) else {
            throw PlatformError.notFound("no \(kind.rawValue) file \(id)")
        }
        return record
    }

    public func get(_ caller: Caller, _ id: String, kind: DataFileKind) async throws -> DataFile {
        try await audit.decision(user: caller.id, action: "data.get", object: id) { try await owned(caller, id, kind: kind).api }
    }

    public func list(_ caller: Caller, kind: DataFileKind) async throws -> [DataFile] {
        let ids = try await sql.select().column("file_id").from("file_owners").where("user_id", .equal, caller.id)
            .all(decodingColumn: "file_id", as: String.self)
        return try await files.list(ids: ids).filter { $0.kind == kind }.map(\.api)
    }

    /// Where the written output `id` is on this host, for its owners to download.
    public func outputContentPath(_ caller: Caller, _ id: String) async throws -> String {
        try await audit.decision(user: caller.id, action: "data.download_output", object: id) {
            let record = try await owned(caller, id, kind: .output)
            guard record.tag != nil else { throw PlatformError.conflict("output \(id) has not been written yet") }
            let path = try destination(of: record)
            guard FileManager.default.fileExists(atPath: path) else {
                throw PlatformError.conflict("output \(id) was written but its file is gone from \(record.url ?? "the platform's store")")
            }
            return path
        }
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
