/// A protected-file scheme: how the bytes of a file are encrypted and authenticated.
///
/// Schemes are named by strings (`Scheme(parsing:)`), as they appear in the CLI and the platform's
/// data registration. See `docs/file-format.md` for the exact definitions.
public enum Scheme: String, CaseIterable, Sendable {
    /// Whole-file AES-GCM with a 128-bit key: ciphertext followed by the 16-byte tag, associated
    /// data 8 zero bytes, a 12-byte IV given by the caller (Teaclave-compatible).
    case aesGCM128 = "aes-gcm-128"
    /// Whole-file AES-GCM with a 256-bit key (see `aesGCM128`).
    case aesGCM256 = "aes-gcm-256"
    /// The chunked streaming format with a 128-bit key.
    case cloisterFile128 = "cloister-file-128"
    /// The chunked streaming format with a 256-bit key.
    case cloisterFile256 = "cloister-file-256"
    /// Plaintext. Accepted for inputs only: writing with `raw` needs `allowRaw: true`.
    case raw

    /// Parses a scheme name; an unknown name is `ProtectedFileError.unknownScheme`, whose message lists the valid ones.
    public init(parsing name: String) throws(ProtectedFileError) {
        guard let scheme = Scheme(rawValue: name) else { throw .unknownScheme(name) }
        self = scheme
    }

    /// The key size in bytes (16 or 32); 0 for `raw`, which takes no key.
    public var keySize: Int {
        switch self {
        case .aesGCM128, .cloisterFile128: return 16
        case .aesGCM256, .cloisterFile256: return 32
        case .raw: return 0
        }
    }

    /// Whether the scheme takes a caller-given IV (the aes-gcm schemes: 12 bytes).
    public var takesIV: Bool { self == .aesGCM128 || self == .aesGCM256 }

    /// Whether this is one of the chunked `cloister-file` schemes.
    public var isChunked: Bool { self == .cloisterFile128 || self == .cloisterFile256 }

    /// The IV size of the aes-gcm schemes.
    public static let ivSize = 12

    /// Checks the key (and IV) against this scheme's sizes.
    public func validate(key: [UInt8], iv: [UInt8]?) throws(ProtectedFileError) {
        if self == .raw {
            guard key.isEmpty else { throw .badKeySize(scheme: self, expected: 0, actual: key.count) }
            guard iv == nil || iv!.isEmpty else { throw .unexpectedIV(scheme: self) }
            return
        }
        guard key.count == keySize else { throw .badKeySize(scheme: self, expected: keySize, actual: key.count) }
        if takesIV {
            guard let iv else { throw .missingIV(scheme: self) }
            guard iv.count == Scheme.ivSize else { throw .badIVSize(expected: Scheme.ivSize, actual: iv.count) }
        } else if let iv, !iv.isEmpty {
            throw .unexpectedIV(scheme: self)
        }
    }
}
