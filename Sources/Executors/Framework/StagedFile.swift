import ProtectedFiles

/// A file staged for one run of a function: where it is on the host and how it is protected.
///
/// The worker stages each input (decrypted as the function reads it) and each output (encrypted
/// with its owner's key as the function writes it) under the name the function declared.
public struct StagedFile: Sendable, Equatable {
    /// The host path.
    public let path: String
    /// How the bytes at `path` are protected (`raw` is plaintext).
    public let scheme: Scheme
    /// The key of `scheme` (empty for `raw`).
    public let key: [UInt8]
    /// The IV, for the aes-gcm schemes only.
    public let iv: [UInt8]?

    /// A file at `path` protected with `scheme`, `key` and (aes-gcm only) `iv`.
    public init(path: String, scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil) {
        self.path = path
        self.scheme = scheme
        self.key = key
        self.iv = iv
    }

    /// A plaintext file at `path` (scheme `raw`), for local runs and tests.
    public static func plaintext(_ path: String) -> StagedFile {
        StagedFile(path: path, scheme: .raw, key: [])
    }
}
