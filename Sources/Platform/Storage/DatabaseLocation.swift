import Foundation

/// Which database a platform keeps its state in: the embedded SQLite file (the default, one host)
/// or a PostgreSQL server (any number of API servers and workers on any number of hosts).
public enum DatabaseLocation: Sendable, Equatable, CustomStringConvertible {
    /// An SQLite file (created if missing).
    case sqlite(path: String)
    /// A PostgreSQL server: `postgres://user:password@host:port/database?sslmode=disable|prefer|require`.
    case postgres(url: String)

    /// Parses what `--database` takes: a `postgres://` (or `postgresql://`) URL, `sqlite:PATH`, or a
    /// plain path (an SQLite file). Relative SQLite paths are taken from `base`.
    public init(parsing text: String, relativeTo base: String = FileManager.default.currentDirectoryPath) throws(DatabaseLocationError) {
        let lowered = text.lowercased()
        if lowered.hasPrefix("postgres://") || lowered.hasPrefix("postgresql://") {
            guard let components = URLComponents(string: text), let host = components.host, !host.isEmpty else {
                throw DatabaseLocationError("\(Self.redact(text)) is not a PostgreSQL URL: expected postgres://user:password@host:port/database")
            }
            guard components.user?.isEmpty == false else {
                throw DatabaseLocationError("\(Self.redact(text)) names no user: expected postgres://user:password@host:port/database")
            }
            guard !components.path.isEmpty, components.path != "/" else {
                throw DatabaseLocationError("\(Self.redact(text)) names no database: expected postgres://user:password@host:port/database")
            }
            for item in components.queryItems ?? [] {
                guard ["sslmode", "tlsmode"].contains(item.name.lowercased()) else {
                    throw DatabaseLocationError("\(Self.redact(text)): unknown parameter \(item.name) (only sslmode is understood)")
                }
                guard ["disable", "prefer", "require"].contains(item.value?.lowercased() ?? "") else {
                    throw DatabaseLocationError("\(Self.redact(text)): sslmode must be disable, prefer or require")
                }
            }
            self = .postgres(url: text)
            return
        }
        var path = text
        if lowered.hasPrefix("sqlite:") { path = String(text.dropFirst("sqlite:".count)) }
        if path.hasPrefix("//") { path = String(path.dropFirst(2)) }
        guard !path.isEmpty else { throw DatabaseLocationError("give the SQLite file as sqlite:PATH") }
        guard !path.contains("://") else {
            throw DatabaseLocationError("\(Self.redact(text)): the database is a postgres:// URL or an SQLite path")
        }
        self = .sqlite(path: path.hasPrefix("/") ? path : base + "/" + path)
    }

    /// The location with any password replaced by `***`, for logs and messages.
    public var description: String {
        switch self {
        case .sqlite(let path): return "sqlite:" + path
        case .postgres(let url): return Self.redact(url)
        }
    }

    /// `url` with its password (if any) replaced by `***`.
    static func redact(_ url: String) -> String {
        guard var components = URLComponents(string: url), components.password != nil else { return url }
        components.password = "***"
        return components.string ?? "postgres://…"
    }
}

/// A `--database` value that cannot be used.
public struct DatabaseLocationError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
