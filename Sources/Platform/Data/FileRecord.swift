import CloisterAPI
import Foundation

/// An input or output file as stored, its key included: wrapped by the key-encryption key for this
/// record's id (`DataKeys`); unwrapped only for a worker.
struct FileRecord: StoredRecord {
    static let table = "files"
    typealias Kind = DataFileKind
    var id: String
    var version = 0
    var kind: Kind
    /// Where the file is; nil for an output the platform keeps in its data folder.
    var url: String?
    var scheme: String
    /// The data key, wrapped (`kek1:…`); hex in a database from before keys were wrapped, until
    /// the next open wraps it.
    var key: String
    var iv: String?
    var tag: String?
    var owners: [String]
    /// For an input registered from an output the platform keeps: that output's id.
    var sourceOutput: String? = nil
    /// For a written output: where the run that wrote it left the file before it was moved into
    /// place, relative to the outputs folder's `.pending/` (`<task>.<attempt>/output-<name>`). If
    /// the worker stopped between the commit and the move, whoever next needs the file moves it
    /// (`OutputDelivery`).
    var deliveredFrom: String? = nil
    var createdBy: String
    var createdAt: Date

    var indexColumns: [(String, any Encodable & Sendable)] { [("kind", kind.rawValue)] }

    var api: DataFile {
        DataFile(id: id, kind: kind.rawValue, url: url, scheme: scheme, owners: owners, tag: tag, createdAt: createdAt)
    }
}

/// Whether a registered file is an input or an output.
public enum DataFileKind: String, Codable, Sendable {
    case input
    case output
}
