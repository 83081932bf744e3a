/// Everything that can go wrong reading or writing a protected file. Each case describes itself
/// in one line (`description`), suitable for a CLI error message.
public enum ProtectedFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A scheme name that is not one of `Scheme.allCases`.
    case unknownScheme(String)
    /// A key whose size does not match the scheme.
    case badKeySize(scheme: Scheme, expected: Int, actual: Int)
    /// An IV whose size is not 12 bytes (aes-gcm schemes).
    case badIVSize(expected: Int, actual: Int)
    /// An aes-gcm scheme was used without an IV.
    case missingIV(scheme: Scheme)
    /// An IV was given to a scheme that takes none.
    case unexpectedIV(scheme: Scheme)
    /// Hex text that is not an even number of hex digits.
    case badHex(String)
    /// `raw` was used for an output without `allowRaw`.
    case rawNotAllowedForOutput
    /// A tag or a chunk failed authentication: wrong key, or the file was modified (a flipped bit,
    /// chunks reordered, swapped in from another file, truncated at a chunk boundary, appended to).
    /// `chunk` is the chunk index for cloister-file, nil for a whole-file aes-gcm tag.
    case authenticationFailed(chunk: UInt64?)
    /// The file's header names a different scheme than the one asked for.
    case wrongScheme(expected: Scheme, found: Scheme)
    /// The file is shorter than its structure requires.
    case truncated(String)
    /// The header was written by a newer version of the format.
    case unsupportedVersion(found: UInt16, supported: UInt16)
    /// The header is not a cloister-file header or holds invalid values.
    case badHeader(String)
    /// An operation the scheme does not support (for example random access on aes-gcm).
    case unsupported(String)
    /// The data exceeds a limit of the scheme.
    case tooLarge(String)
    /// A host I/O error (open, read, write, rename), with the path when known.
    case io(String)
    /// An aes-gcm encryption under a (key, IV) pair used before (recorded in the journal at this path).
    case reusedKeyAndIV(String)

    public var description: String {
        switch self {
        case .unknownScheme(let name):
            return "unknown scheme '\(name)' (valid: \(Scheme.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .badKeySize(let scheme, let expected, let actual):
            return "bad key size for \(scheme.rawValue): expected \(expected) bytes, got \(actual)"
        case .badIVSize(let expected, let actual):
            return "bad IV size: expected \(expected) bytes, got \(actual)"
        case .missingIV(let scheme):
            return "\(scheme.rawValue) needs a \(Scheme.ivSize)-byte IV"
        case .unexpectedIV(let scheme):
            return "\(scheme.rawValue) takes no IV"
        case .badHex(let what):
            return "not valid hex: \(what)"
        case .rawNotAllowedForOutput:
            return "the raw scheme is accepted for inputs only; outputs must be encrypted"
        case .authenticationFailed(let chunk):
            if let chunk { return "authentication failed at chunk \(chunk): wrong key, or the file was modified" }
            return "authentication failed: wrong key or IV, or the file was modified"
        case .wrongScheme(let expected, let found):
            return "wrong scheme: expected \(expected.rawValue), the file is \(found.rawValue)"
        case .truncated(let detail):
            return "truncated file: \(detail)"
        case .unsupportedVersion(let found, let supported):
            return "unsupported cloister-file version \(found) (this build reads up to \(supported)); the file was written by a newer Cloister"
        case .badHeader(let detail):
            return "bad header: \(detail)"
        case .unsupported(let detail):
            return "unsupported: \(detail)"
        case .tooLarge(let detail):
            return "too large: \(detail)"
        case .io(let detail):
            return detail
        case .reusedKeyAndIV(let journal):
            return "this key and IV have encrypted a file before (\(journal)); AES-GCM must never encrypt twice under one pair: run `cloister keygen` for a fresh key and IV, or give a fresh --iv"
        }
    }
}
