/// Encrypts a file as a stream, in constant memory: `write` plaintext in pieces of any size, then
/// `finish` for the file's integrity tag.
///
/// - aes-gcm: writes ciphertext as it goes and the 16-byte tag at the end; the tag is the file tag.
/// - cloister-file: writes the header, then one record per chunk; the file tag is SHA-256 over the
///   header and the chunk tags.
/// - raw: copies plaintext through, only when created with `allowRaw: true` (raw is for inputs;
///   an output must be encrypted); its tag is empty.
public final class ProtectedFileWriter {
    /// The scheme being written.
    public let scheme: Scheme
    private let output: SequentialOutput
    private var gcm: AESGCMStream?
    private var cipher: ChunkedFileCipher?
    private var tagHasher: FileTagHasher?
    private var pending: [UInt8] = []
    private var pieceSize: Int
    private var nextIndex: UInt64 = 0
    private var finished = false
    /// Plaintext bytes accepted so far.
    public private(set) var plaintextBytes: UInt64 = 0

    /// A writer of `scheme` onto `output`. `iv` only for aes-gcm (12 bytes); `chunkSize` only for
    /// cloister-file (1...16 MiB, default 64 KiB).
    public init(
        scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil,
        chunkSize: Int = ChunkedFileHeader.defaultChunkSize,
        output: SequentialOutput, allowRaw: Bool = false
    ) throws {
        if scheme == .raw && !allowRaw { throw ProtectedFileError.rawNotAllowedForOutput }
        try scheme.validate(key: key, iv: iv)
        self.scheme = scheme
        self.output = output
        switch scheme {
        case .aesGCM128, .aesGCM256:
            gcm = try AESGCMStream(key: key, iv: iv!, associatedData: [UInt8](repeating: 0, count: 8))
            pieceSize = 1 << 20
        case .cloisterFile128, .cloisterFile256:
            let header = try ChunkedFileHeader(scheme: scheme, chunkSize: chunkSize)
            cipher = try ChunkedFileCipher(header: header, key: key)
            tagHasher = FileTagHasher(header: header.encoded)
            pieceSize = chunkSize
            try output.write(header.encoded)
        case .raw:
            pieceSize = 1 << 20
        }
        pending.reserveCapacity(pieceSize)
    }

    /// Appends plaintext.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        precondition(!finished, "write after finish")
        var start = 0
        while start < bytes.count {
            if pending.count == pieceSize {
                // More data follows, so the full piece is not the last one.
                try flush(isLast: false)
            }
            let take = min(pieceSize - pending.count, bytes.count - start)
            pending.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<start + take]))
            start += take
        }
        plaintextBytes += UInt64(bytes.count)
    }

    /// Appends plaintext.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    private func flush(isLast: Bool) throws {
        switch scheme {
        case .aesGCM128, .aesGCM256:
            let out = try pending.withUnsafeBytes { try gcm!.process($0, encrypting: true) }
            try output.write(out)
        case .cloisterFile128, .cloisterFile256:
            let (record, tag) = try pending.withUnsafeBytes { try cipher!.seal($0, index: nextIndex, isLast: isLast) }
            try output.write(record)
            tagHasher!.add(tag)
            nextIndex += 1
        case .raw:
            try output.write(pending)
        }
        pending.removeAll(keepingCapacity: true)
    }

    /// Writes what is buffered and the end of the file; returns the file's integrity tag
    /// (16 bytes for aes-gcm, 32 for cloister-file, empty for raw).
    public func finish() throws -> [UInt8] {
        precondition(!finished, "finish called twice")
        finished = true
        try flush(isLast: true)
        switch scheme {
        case .aesGCM128, .aesGCM256:
            let tag = gcm!.finish()
            try output.write(tag)
            return tag
        case .cloisterFile128, .cloisterFile256:
            return tagHasher!.finish()
        case .raw:
            return []
        }
    }
}
