import Foundation

/// Where the bytes of a file are, parsed from its URL and checked against the data roots.
enum DataLocation: Sendable, Equatable {
    /// A host file under one of the data roots.
    case file(String)
    /// A file a worker downloads.
    case http(URL)
    /// The bytes themselves (a `data:` URL).
    case inline([UInt8])

    /// The largest `data:` URL accepted, in bytes of its text.
    static let maxInlineBytes = 16 << 20

    /// Parses `text`; `file://` paths must be absolute and lie beneath one of `roots` (after
    /// resolving `..` and symbolic links of the folders that exist). `field` names the field in errors.
    static func parse(_ text: String, roots: [String], field: String) throws(PlatformError) -> DataLocation {
        if text.hasPrefix("data:") {
            guard text.utf8.count <= maxInlineBytes else { throw .field(field, "a data: URL larger than \(maxInlineBytes) bytes") }
            guard let comma = text.firstIndex(of: ",") else { throw .field(field, "a data: URL needs a ','") }
            let header = text[text.index(text.startIndex, offsetBy: 5)..<comma]
            let body = String(text[text.index(after: comma)...])
            if header.hasSuffix(";base64") {
                guard let data = Data(base64Encoded: body) else { throw .field(field, "the data: URL is not valid base64") }
                return .inline(Array(data))
            }
            guard let decoded = body.removingPercentEncoding else { throw .field(field, "the data: URL has bad percent escapes") }
            return .inline(Array(decoded.utf8))
        }
        guard text.utf8.count <= 4096, let url = URL(string: text), let scheme = url.scheme?.lowercased() else {
            throw .field(field, "must be a file://, http(s):// or data: URL, got \(Validation.quoted(text))")
        }
        switch scheme {
        case "http", "https":
            guard url.host != nil else { throw .field(field, "has no host") }
            return .http(url)
        case "file":
            guard url.host == nil || url.host == "" || url.host == "localhost" else {
                throw .field(field, "a file:// URL must name a local path")
            }
            let path = url.path
            guard path.hasPrefix("/") else { throw .field(field, "a file:// URL needs an absolute path") }
            guard let resolved = resolve(path), roots.contains(where: { isBeneath(resolved, resolve($0) ?? $0) }) else {
                throw .field(field, "\(path) is outside the data roots of this server")
            }
            return .file(resolved)
        default:
            throw .field(field, "must be a file://, http(s):// or data: URL, got \(Validation.quoted(text))")
        }
    }

    /// `path` with `.`/`..` removed and the symbolic links of its longest existing prefix resolved.
    static func resolve(_ path: String) -> String? {
        var components = (path as NSString).standardizingPath.split(separator: "/").map(String.init)
        if components.contains("..") { return nil }
        var tail: [String] = []
        while true {
            let prefix = "/" + components.joined(separator: "/")
            if let real = realpath(prefix, nil) {
                defer { free(real) }
                let base = String(cString: real)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            guard let last = components.popLast() else { return nil }
            tail.append(last)
        }
    }

    private static func isBeneath(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root.hasSuffix("/") ? root : root + "/")
    }
}
