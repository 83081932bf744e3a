import Foundation

/// The file system a mount provides.
public enum MountType: String, Sendable, CaseIterable {
    /// An in-memory file system, empty at start and lost at exit.
    case ramfs
    /// A host directory (`source`), with every guest path resolved beneath it.
    case hostfs
    /// Device files: `/dev/null`, `/dev/zero`, `/dev/random`, `/dev/urandom`, `/dev/tty`, …
    case devfs
    /// An encrypted file system stored in a host directory (`source`).
    case sefs

    /// Whether a mount of this type must name a host `source` (hostfs, sefs); the others must not.
    public var requiresSource: Bool {
        switch self {
        case .hostfs, .sefs: return true
        case .ramfs, .devfs: return false
        }
    }

    /// The keys a mount of this type accepts in `"options"`.
    ///
    /// sefs: `key_file`, a host file with the encryption key (relative to the instance folder
    /// unless absolute). hostfs: `read_only`, `"true"` or `"false"` (default): a read-only mount
    /// refuses every change with `EROFS`; `preopen_only`, `"true"` or `"false"` (default): see
    /// ``MountConfig/isPreopenOnly``. The others take no options.
    /// The options whose value is `"true"` or `"false"`.
    static let booleanOptionKeys: Set<String> = ["read_only", "preopen_only"]

    public var allowedOptionKeys: [String] {
        switch self {
        case .sefs: return ["key_file"]
        case .hostfs: return ["read_only", "preopen_only"]
        case .ramfs, .devfs: return []
        }
    }
}
