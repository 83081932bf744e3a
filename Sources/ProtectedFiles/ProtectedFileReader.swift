/// Decrypts a protected file as a stream, in constant memory.
///
/// `read()` returns the plaintext piece by piece and nil at the end.
/// - cloister-file: every piece is one chunk, authenticated before it is returned; `readChunk(at:)`
///   reads any chunk alone. `tag` is known once the whole file has been read in order.
/// - aes-gcm: the tag sits at the end of the file, so pieces are **not authenticated until `read()`
///   returns nil** (it throws `authenticationFailed` instead if the tag does not verify). Whoever
///   stores the pieces must not release them before that (the CLI writes to a temporary file and
///   renames it only then).
/// - raw: the bytes as they are; nothing is authenticated.
public final class ProtectedFileReader {
    /// The scheme being read.
    public let scheme: Scheme
    private let input: RandomAccessInput
    private let inputSize: UInt64
    private var gcm: AESGCMStream?
    private var cipher: ChunkedFileCipher?
    private var tagHasher: FileTagHasher?
    /// The header, for cloister-file.
    public private(set) var header: ChunkedFileHeader?
    /// The layout, for cloister-file.
    public private(set) var layout: ChunkedFileLayout?
    private var offset: UInt64 = 0
    private var nextChunk: UInt64 = 0
    private var done = false
    /// The file's integrity tag, once `read()` has returned nil (empty for raw).
    public private(set) var tag: [UInt8]?
    /// Bytes of the stored file consumed so far by `read()` (for progress reports).
    public var storedBytesRead: UInt64 { offset }

    /// A reader of `input`, stored with `scheme`. `iv` only for aes-gcm.
    public init(scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil, input: RandomAccessInput) throws {
        try scheme.validate(key: key, iv: iv)
        self.scheme = scheme
        self.input = input
        self.inputSize = try input.size()
        switch scheme {
        case .aesGCM128, .aesGCM256:
            guard inputSize >= 16 else { throw ProtectedFileError.truncated("\(inputSize) bytes, shorter than the 16-byte tag") }
            guard inputSize - 16 <= AESGCMStream.maxPlaintext else { throw ProtectedFileError.tooLarge("larger than an aes-gcm file can be") }
            gcm = try AESGCMStream(key: key, iv: iv!, associatedData: [UInt8](repeating: 0, count: 8))
        case .cloisterFile128, .cloisterFile256:
            let bytes = try input.readFully(at: 0, count: ChunkedFileHeader.size)
            let header = try ChunkedFileHeader(parsing: bytes, expected: scheme)
            self.header = header
            self.layout = try ChunkedFileLayout(header: header, fileSize: inputSize)
            self.cipher = try ChunkedFileCipher(header: header, key: key)
            self.tagHasher = FileTagHasher(header: bytes)
            offset = UInt64(ChunkedFileHeader.size)
        case .raw:
            break
        }
    }

    /// The plaintext size: exact for every scheme, from the stored size.
    public var plaintextSize: UInt64 {
        switch scheme {
        case .aesGCM128, .aesGCM256: return inputSize - 16
        case .cloisterFile128, .cloisterFile256: return layout!.plaintextSize
        case .raw: return inputSize
        }
    }

    /// The stored size of the input.
    public var storedSize: UInt64 { inputSize }

    /// The next piece of plaintext, or nil at the end (see the type's note on aes-gcm).
    public func read() throws -> [UInt8]? {
        if done { return nil }
        switch scheme {
        case .aesGCM128, .aesGCM256:
            let end = inputSize - 16
            if offset == end {
                let stored = try input.readFully(at: end, count: 16)
                guard stored.count == 16 else { throw ProtectedFileError.truncated("the file shrank while being read") }
                let computed = gcm!.finish()
                done = true
                guard constantTimeEqual(stored, computed) else { throw ProtectedFileError.authenticationFailed(chunk: nil) }
                tag = computed
                return nil
            }
            let count = Int(min(UInt64(1 << 20), end - offset))
            let bytes = try input.readFully(at: offset, count: count)
            guard bytes.count == count else { throw ProtectedFileError.truncated("the file shrank while being read") }
            offset += UInt64(count)
            return try bytes.withUnsafeBytes { try gcm!.process($0, encrypting: false) }
        case .cloisterFile128, .cloisterFile256:
            if nextChunk == layout!.chunkCount {
                done = true
                tag = tagHasher!.finish()
                return nil
            }
            let (plaintext, chunkTag, size) = try openChunk(nextChunk)
            tagHasher!.add(chunkTag)
            offset += UInt64(size)
            nextChunk += 1
            return plaintext
        case .raw:
            if offset == inputSize {
                done = true
                tag = []
                return nil
            }
            let count = Int(min(UInt64(1 << 20), inputSize - offset))
            let bytes = try input.readFully(at: offset, count: count)
            guard bytes.count == count else { throw ProtectedFileError.truncated("the file shrank while being read") }
            offset += UInt64(count)
            return bytes
        }
    }

    /// The number of chunks (cloister-file only).
    public var chunkCount: UInt64? { layout?.chunkCount }

    /// Reads and authenticates chunk `index` alone (cloister-file only).
    public func readChunk(at index: UInt64) throws -> [UInt8] {
        guard scheme.isChunked else { throw ProtectedFileError.unsupported("random access needs a cloister-file scheme, not \(scheme.rawValue)") }
        guard index < layout!.chunkCount else { throw ProtectedFileError.unsupported("chunk \(index) is past the last chunk \(layout!.chunkCount - 1)") }
        return try openChunk(index).plaintext
    }

    private func openChunk(_ index: UInt64) throws -> (plaintext: [UInt8], tag: [UInt8], size: Int) {
        let header = header!, layout = layout!
        let isLast = index == layout.chunkCount - 1
        let size = isLast ? layout.lastRecordSize : header.recordSize
        let record = try input.readFully(at: header.recordOffset(index), count: size)
        guard record.count == size else { throw ProtectedFileError.truncated("chunk \(index) is cut short") }
        let plaintext = try cipher!.open(record, index: index, isLast: isLast)
        return (plaintext, Array(record[(record.count - 16)...]), size)
    }
}
