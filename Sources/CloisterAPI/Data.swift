import Foundation

/// `POST /v1/inputs`: an encrypted input file.
///
/// `url` is `file:///path` (under one of the server's data roots), `http(s)://…` or a `data:`
/// URL; `key`, `iv` and `tag` are hex. `tag` is the file's integrity tag (what `cloister encrypt`
/// prints, or an output's tag): the worker refuses a file whose tag differs.
public struct RegisterInputRequest: Codable, Sendable {
    public var url: String
    public var scheme: String
    public var key: String
    public var iv: String?
    public var tag: String?
    public init(url: String, scheme: String, key: String, iv: String? = nil, tag: String? = nil) {
        self.url = url
        self.scheme = scheme
        self.key = key
        self.iv = iv
        self.tag = tag
    }
}

/// `POST /v1/outputs`: where an output goes and the key it is encrypted with.
///
/// Without `url` the platform keeps the file itself and its owners download it from
/// `GET /v1/outputs/{id}/content`. `owners` (default: the caller, who must be one of them) makes a
/// fusion output that belongs to several users.
public struct RegisterOutputRequest: Codable, Sendable {
    public var url: String?
    public var scheme: String
    public var key: String
    public var iv: String?
    public var owners: [String]?
    public init(url: String? = nil, scheme: String, key: String, iv: String? = nil, owners: [String]? = nil) {
        self.url = url
        self.scheme = scheme
        self.key = key
        self.iv = iv
        self.owners = owners
    }
}

/// `POST /v1/inputs/from-output`: an input registered from a written output (same file, key,
/// owners and tag), to chain one task's output into another's input.
public struct RegisterInputFromOutputRequest: Codable, Sendable {
    public var outputId: String
    public init(outputId: String) {
        self.outputId = outputId
    }
}

/// A registered input or output file (its key is never returned).
public struct DataFile: Codable, Sendable, Equatable {
    public var id: String
    /// `input` or `output`.
    public var kind: String
    /// Where the file is (nil for an output the platform keeps).
    public var url: String?
    public var scheme: String
    public var owners: [String]
    /// The integrity tag (hex): given for an input, recorded for an output once written.
    public var tag: String?
    public var createdAt: Date
    public init(id: String, kind: String, url: String?, scheme: String, owners: [String], tag: String?, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.url = url
        self.scheme = scheme
        self.owners = owners
        self.tag = tag
        self.createdAt = createdAt
    }
}

/// `GET /v1/inputs`, `GET /v1/outputs`: the caller's files.
public struct DataFileList: Codable, Sendable {
    public var files: [DataFile]
    public init(files: [DataFile]) {
        self.files = files
    }
}
