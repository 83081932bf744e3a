import Foundation

/// Lexical path helpers for configuration values.
enum ConfigPaths {
    /// Whether `path` is `/` or `/a/b…` with no empty, `.` or `..` component, no trailing
    /// slash and no NUL character.
    static func isNormalizedAbsolute(_ path: String) -> Bool {
        guard path.hasPrefix("/"), !path.contains("\0") else { return false }
        if path == "/" { return true }
        let components = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
        return components.allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    /// Whether the normalized absolute `path` is `prefix` or lies beneath it (by whole components).
    static func path(_ path: String, isWithin prefix: String) -> Bool {
        guard isNormalizedAbsolute(path) else { return false }
        if prefix == "/" { return true }
        return path == prefix || path.hasPrefix(prefix + "/")
    }

    /// `path` if it is absolute, else `path` joined to `directory`, with empty and `.`
    /// components removed (`..` is kept: the host file system resolves it).
    static func resolve(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        let absolute = joined.hasPrefix("/")
        let components = joined.split(separator: "/").filter { $0 != "." }
        let body = components.joined(separator: "/")
        if absolute { return "/" + body }
        return body.isEmpty ? "." : body
    }
}
