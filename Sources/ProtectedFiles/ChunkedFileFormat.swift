import Crypto
import Foundation

/// The 32-byte header of a cloister-file (see `docs/file-format.md`):
/// magic `CLOISTRF` · version u16 · scheme u16 · chunk size u32 · file nonce (16 bytes), big-endian.
public struct ChunkedFileHeader: Equatable, Sendable {
    /// The magic bytes, ASCII `CLOISTRF`.
    public static let magic: [UInt8] = Array("CLOISTRF".utf8)
    /// The header size in bytes.
    public static let size = 32
    /// The format version this build writes and the newest it reads.
    public static let currentVersion: UInt16 = 1
    /// The default plaintext bytes per chunk: 64 KiB.
    public static let defaultChunkSize = 65536
    /// The largest chunk size: 16 MiB (bounds a reader's memory).
    public static let maxChunkSize = 1 << 24
    /// The size of the file nonce.
    public static let nonceSize = 16

    /// The format version.
    public var version: UInt16
    /// `cloisterFile128` or `cloisterFile256`.
    public var scheme: Scheme
    /// Plaintext bytes in every chunk but the last.
    public var chunkSize: Int
    /// Random per file: salts the key derivation, so every file has its own chunk key.
    public var fileNonce: [UInt8]

    /// A new header with a fresh random file nonce.
    public init(scheme: Scheme, chunkSize: Int = ChunkedFileHeader.defaultChunkSize) throws(ProtectedFileError) {
        guard scheme.isChunked else { throw .unsupported("\(scheme.rawValue) is not a cloister-file scheme") }
        guard chunkSize >= 1 && chunkSize <= ChunkedFileHeader.maxChunkSize else {
            throw .badHeader("chunk size \(chunkSize) outside 1...\(ChunkedFileHeader.maxChunkSize)")
        }
        var rng = SystemRandomNumberGenerator()
        self.version = ChunkedFileHeader.currentVersion
        self.scheme = scheme
        self.chunkSize = chunkSize
        self.fileNonce = (0..<ChunkedFileHeader.nonceSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    /// Parses and checks a header; `expected` is the scheme the caller asked for.
    public init(parsing bytes: [UInt8], expected: Scheme) throws(ProtectedFileError) {
        guard bytes.count >= ChunkedFileHeader.size else {
            throw .truncated("\(bytes.count) bytes, shorter than the \(ChunkedFileHeader.size)-byte cloister-file header")
        }
        guard Array(bytes[0..<8]) == ChunkedFileHeader.magic else { throw .badHeader("not a cloister-file (bad magic)") }
        let version = UInt16(bytes[8]) << 8 | UInt16(bytes[9])
        guard version != 0 else { throw .badHeader("version 0") }
        guard version <= ChunkedFileHeader.currentVersion else {
            throw .unsupportedVersion(found: version, supported: ChunkedFileHeader.currentVersion)
        }
        let schemeID = UInt16(bytes[10]) << 8 | UInt16(bytes[11])
        let scheme: Scheme
        switch schemeID {
        case 1: scheme = .cloisterFile128
        case 2: scheme = .cloisterFile256
        default: throw .badHeader("unknown scheme id \(schemeID)")
        }
        guard scheme == expected else { throw .wrongScheme(expected: expected, found: scheme) }
        let chunkSize = Int(bytes[12]) << 24 | Int(bytes[13]) << 16 | Int(bytes[14]) << 8 | Int(bytes[15])
        guard chunkSize >= 1 && chunkSize <= ChunkedFileHeader.maxChunkSize else {
            throw .badHeader("chunk size \(chunkSize) outside 1...\(ChunkedFileHeader.maxChunkSize)")
        }
        self.version = version
        self.scheme = scheme
        self.chunkSize = chunkSize
        self.fileNonce = Array(bytes[16..<32])
    }

    /// The 32 header bytes.
    public var encoded: [UInt8] {
        var out = ChunkedFileHeader.magic
        out += [UInt8(version >> 8), UInt8(version & 0xff)]
        let id: UInt16 = scheme == .cloisterFile128 ? 1 : 2
        out += [UInt8(id >> 8), UInt8(id & 0xff)]
        let size = UInt32(chunkSize)
        out += [UInt8(size >> 24), UInt8(size >> 16 & 0xff), UInt8(size >> 8 & 0xff), UInt8(size & 0xff)]
        out += fileNonce
        return out
    }

    /// Bytes of one stored chunk record: nonce (12) · ciphertext (`chunkSize`) · tag (16).
    public var recordSize: Int { chunkSize + ChunkedFileCipher.overhead }

    /// Where chunk `index`'s record starts in the file.
    public func recordOffset(_ index: UInt64) -> UInt64 {
        UInt64(ChunkedFileHeader.size) + index * UInt64(recordSize)
    }
}

/// The shape of a stored cloister-file, computed from its size alone.
public struct ChunkedFileLayout: Equatable, Sendable {
    /// Number of chunks (at least 1: an empty file has one empty last chunk).
    public var chunkCount: UInt64
    /// Stored bytes of the last chunk's record.
    public var lastRecordSize: Int
    /// Plaintext bytes in the whole file.
    public var plaintextSize: UInt64

    /// The most chunks a file may have (random 96-bit chunk nonces under one key: 2^32).
    public static let maxChunkCount: UInt64 = 1 << 32

    /// The layout of a stored file of `fileSize` bytes with `header`.
    public init(header: ChunkedFileHeader, fileSize: UInt64) throws(ProtectedFileError) {
        guard fileSize >= UInt64(ChunkedFileHeader.size) else { throw .truncated("no complete header") }
        let body = fileSize - UInt64(ChunkedFileHeader.size)
        let record = UInt64(header.recordSize)
        let overhead = UInt64(ChunkedFileCipher.overhead)
        guard body >= overhead else { throw .truncated("no complete chunk after the header") }
        let count = (body + record - 1) / record
        guard count <= ChunkedFileLayout.maxChunkCount else { throw .tooLarge("more than 2^32 chunks") }
        let last = body - (count - 1) * record
        guard last >= overhead else { throw .truncated("the last chunk is cut short (\(last) bytes)") }
        chunkCount = count
        lastRecordSize = Int(last)
        plaintextSize = body - count * overhead
    }

    /// The stored size of a file holding `plaintextSize` bytes in chunks of `chunkSize`.
    public static func storedSize(plaintextSize: UInt64, chunkSize: Int) -> UInt64 {
        let chunks = max(1, (plaintextSize + UInt64(chunkSize) - 1) / UInt64(chunkSize))
        return UInt64(ChunkedFileHeader.size) + plaintextSize + chunks * UInt64(ChunkedFileCipher.overhead)
    }
}

/// Seals and opens single chunks of one cloister-file: the piece `sefs` uses for random-access
/// reads and chunk rewrites.
///
/// Chunk key = HKDF-SHA256(key, salt: file nonce, info: "cloister-file/v1/chunk-key" ‖ header).
/// Each record = random 12-byte nonce ‖ AES-GCM ciphertext ‖ 16-byte tag, with associated data
/// header ‖ index (u64 BE) ‖ isLast (1 byte). Rewriting a chunk draws a fresh nonce, so rewrites
/// never reuse one.
public struct ChunkedFileCipher: Sendable {
    /// Bytes a record adds to its plaintext: nonce (12) and tag (16).
    public static let overhead = 28
    /// The HKDF info prefix.
    static let keyLabel = Array("cloister-file/v1/chunk-key".utf8)

    /// The file's header.
    public let header: ChunkedFileHeader
    private let headerBytes: [UInt8]
    private let chunkKeyBytes: [UInt8]
    private var chunkKey: SymmetricKey { SymmetricKey(data: chunkKeyBytes) }

    /// The cipher for the file with `header`, under the user's `key` (16 or 32 bytes per the scheme).
    public init(header: ChunkedFileHeader, key: [UInt8]) throws(ProtectedFileError) {
        try header.scheme.validate(key: key, iv: nil)
        self.header = header
        self.headerBytes = header.encoded
        self.chunkKeyBytes = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key),
            salt: header.fileNonce,
            info: ChunkedFileCipher.keyLabel + headerBytes,
            outputByteCount: header.scheme.keySize).withUnsafeBytes { Array($0) }
    }

    /// The associated data of chunk `index`.
    func associatedData(index: UInt64, isLast: Bool) -> [UInt8] {
        var aad = headerBytes
        for k in 0..<8 { aad.append(UInt8(truncatingIfNeeded: index >> (56 - 8 * UInt64(k)))) }
        aad.append(isLast ? 1 : 0)
        return aad
    }

    /// Seals chunk `index`: returns its record and its 16-byte tag. A non-last chunk must hold
    /// exactly `chunkSize` bytes; the last one 0...chunkSize (0 only when it is the only chunk).
    public func seal(_ plaintext: UnsafeRawBufferPointer, index: UInt64, isLast: Bool) throws -> (record: [UInt8], tag: [UInt8]) {
        guard isLast ? plaintext.count <= header.chunkSize : plaintext.count == header.chunkSize else {
            throw ProtectedFileError.unsupported("chunk \(index) holds \(plaintext.count) bytes; chunks before the last hold exactly \(header.chunkSize)")
        }
        guard index < ChunkedFileLayout.maxChunkCount else { throw ProtectedFileError.tooLarge("more than 2^32 chunks") }
        let box = try AES.GCM.seal(plaintext, using: chunkKey, nonce: AES.GCM.Nonce(), authenticating: associatedData(index: index, isLast: isLast))
        let tag = [UInt8](box.tag)
        var record = [UInt8]()
        record.reserveCapacity(plaintext.count + ChunkedFileCipher.overhead)
        record += box.nonce
        record += box.ciphertext
        record += tag
        return (record, tag)
    }

    /// Opens the record of chunk `index`: the plaintext, or `authenticationFailed(chunk: index)`.
    public func open(_ record: [UInt8], index: UInt64, isLast: Bool) throws(ProtectedFileError) -> [UInt8] {
        guard record.count >= ChunkedFileCipher.overhead else { throw .truncated("chunk \(index) is cut short") }
        do {
            let box = try AES.GCM.SealedBox(
                nonce: AES.GCM.Nonce(data: record[0..<12]),
                ciphertext: record[12..<(record.count - 16)],
                tag: record[(record.count - 16)...])
            return [UInt8](try AES.GCM.open(box, using: chunkKey, authenticating: associatedData(index: index, isLast: isLast)))
        } catch {
            throw .authenticationFailed(chunk: index)
        }
    }

    /// The file tag: SHA-256(header ‖ tag₀ ‖ … ‖ tagₙ₋₁), from the chunk tags in order.
    public static func fileTag(header: [UInt8], chunkTags: some Sequence<[UInt8]>) -> [UInt8] {
        var hash = SHA256()
        hash.update(data: header)
        for tag in chunkTags { hash.update(data: tag) }
        return Array(hash.finalize())
    }
}

/// The running file tag, fed one chunk tag at a time.
struct FileTagHasher {
    private var hash = SHA256()
    init(header: [UInt8]) { hash.update(data: header) }
    mutating func add(_ tag: [UInt8]) { hash.update(data: tag) }
    func finish() -> [UInt8] { Array(hash.finalize()) }
}
