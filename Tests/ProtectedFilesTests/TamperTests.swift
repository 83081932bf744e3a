import Foundation
import Testing
@testable import ProtectedFiles

/// Every attack on a stored file is an error, never wrong plaintext.
@Suite struct TamperTests {
    static let chunked: [Scheme] = [.cloisterFile128, .cloisterFile256]
    static let all: [Scheme] = [.aesGCM128, .aesGCM256, .cloisterFile128, .cloisterFile256]

    /// A 4-chunk file (3 full chunks of 64 and a 10-byte tail) for chunked schemes.
    func sample(_ scheme: Scheme, seed: UInt64 = 1) throws -> (stored: [UInt8], key: [UInt8], iv: [UInt8]?, plaintext: [UInt8]) {
        let key = randomKey(scheme)
        let iv: [UInt8]? = scheme.takesIV ? pattern(12, seed: seed) : nil
        let plaintext = pattern(3 * 64 + 10, seed: seed)
        return (try seal(plaintext, scheme: scheme, key: key, iv: iv).stored, key, iv, plaintext)
    }

    @Test(arguments: all) func wrongKey(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        var other = s.key
        other[0] ^= 1
        #expect(throws: ProtectedFileError.self) { try open(s.stored, scheme: scheme, key: other, iv: s.iv) }
        if scheme.isChunked {
            #expect(throws: ProtectedFileError.authenticationFailed(chunk: 0)) { try open(s.stored, scheme: scheme, key: other) }
        } else {
            #expect(throws: ProtectedFileError.authenticationFailed(chunk: nil)) { try open(s.stored, scheme: scheme, key: other, iv: s.iv) }
            var otherIV = s.iv!
            otherIV[11] ^= 0x80
            #expect(throws: ProtectedFileError.authenticationFailed(chunk: nil)) { try open(s.stored, scheme: scheme, key: s.key, iv: otherIV) }
        }
    }

    @Test func wrongScheme() throws {
        let s = try sample(.cloisterFile128)
        #expect(throws: ProtectedFileError.wrongScheme(expected: .cloisterFile256, found: .cloisterFile128)) {
            try open(s.stored, scheme: .cloisterFile256, key: randomKey(.cloisterFile256))
        }
        // Same key size, other family: authentication fails or the header is refused.
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: nil)) { try open(s.stored, scheme: .aesGCM128, key: s.key, iv: pattern(12)) }
        let g = try sample(.aesGCM128)
        #expect(throws: ProtectedFileError.self) { try open(g.stored, scheme: .cloisterFile128, key: g.key) }
        // A key of the other size is refused before any decryption.
        #expect(throws: ProtectedFileError.badKeySize(scheme: .aesGCM256, expected: 32, actual: 16)) {
            try open(g.stored, scheme: .aesGCM256, key: g.key, iv: g.iv)
        }
    }

    @Test func badKeyAndIVSizes() throws {
        #expect(throws: ProtectedFileError.badIVSize(expected: 12, actual: 16)) {
            _ = try ProtectedFileWriter(scheme: .aesGCM128, key: randomKey(.aesGCM128), iv: pattern(16), output: MemoryFile())
        }
        #expect(throws: ProtectedFileError.badIVSize(expected: 12, actual: 8)) {
            try open(pattern(40), scheme: .aesGCM256, key: randomKey(.aesGCM256), iv: pattern(8))
        }
        #expect(throws: ProtectedFileError.missingIV(scheme: .aesGCM128)) {
            _ = try ProtectedFileWriter(scheme: .aesGCM128, key: randomKey(.aesGCM128), output: MemoryFile())
        }
        #expect(throws: ProtectedFileError.unexpectedIV(scheme: .cloisterFile128)) {
            _ = try ProtectedFileWriter(scheme: .cloisterFile128, key: randomKey(.cloisterFile128), iv: pattern(12), output: MemoryFile())
        }
        #expect(throws: ProtectedFileError.badKeySize(scheme: .cloisterFile256, expected: 32, actual: 31)) {
            _ = try ProtectedFileWriter(scheme: .cloisterFile256, key: pattern(31), output: MemoryFile())
        }
    }

    @Test(arguments: all) func flippedBitAnywhere(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        let n = s.stored.count
        // Header fields (magic, version, scheme, chunk size, nonce), chunk nonces, bodies, tags, the end.
        var positions = [0, 5, 9, 11, 14, 20, 31, 32, 40, 50, 92, 100, 123, 200, n - 30, n - 17, n - 16, n - 1]
        positions += Array(stride(from: 0, to: n, by: 7))
        for position in Set(positions) where position < n {
            for bit in [0, 7] as [UInt8] {
                var tampered = s.stored
                tampered[position] ^= 1 << bit
                #expect(throws: ProtectedFileError.self, "\(scheme.rawValue): byte \(position) bit \(bit)") {
                    try open(tampered, scheme: scheme, key: s.key, iv: s.iv)
                }
            }
        }
    }

    @Test(arguments: all) func truncation(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        let n = s.stored.count
        for cut in [1, 5, 16, 17, 38, 64 + 28, n - 32, n - 10, n] where cut <= n {
            #expect(throws: ProtectedFileError.self, "\(scheme.rawValue) minus \(cut)") {
                try open(Array(s.stored.dropLast(cut)), scheme: scheme, key: s.key, iv: s.iv)
            }
        }
    }

    @Test(arguments: chunked) func droppingTheLastChunkIsAnAuthenticationFailure(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        // The tail chunk is 10 + 28 bytes: without it the full chunk 2 claims to be last.
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: 2)) {
            try open(Array(s.stored.dropLast(38)), scheme: scheme, key: s.key)
        }
        // Cut mid-chunk: the last record no longer authenticates or is too short.
        #expect(throws: ProtectedFileError.self) { try open(Array(s.stored.dropLast(20)), scheme: scheme, key: s.key) }
    }

    @Test(arguments: chunked) func chunksReordered(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        let record = 64 + 28
        var swapped = s.stored
        let a = 32, b = 32 + record
        swapped.replaceSubrange(a..<a + record, with: s.stored[b..<b + record])
        swapped.replaceSubrange(b..<b + record, with: s.stored[a..<a + record])
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: 0)) { try open(swapped, scheme: scheme, key: s.key) }
        // Random access to the moved chunk fails as well.
        let reader = try ProtectedFileReader(scheme: scheme, key: s.key, input: MemoryFile(swapped))
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: 1)) { try reader.readChunk(at: 1) }
        #expect(try reader.readChunk(at: 2) == Array(s.plaintext[128..<192]))
    }

    @Test(arguments: chunked) func chunkSwappedInFromAnotherFileWithTheSameKey(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        let other = try seal(pattern(3 * 64 + 10, seed: 5), scheme: scheme, key: s.key)
        var mixed = s.stored
        let record = 64 + 28, at = 32 + record
        mixed.replaceSubrange(at..<at + record, with: other.stored[at..<at + record])
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: 1)) { try open(mixed, scheme: scheme, key: s.key) }
        // Even the other file's header with its own chunks mixed in fails.
        var headerSwapped = s.stored
        headerSwapped.replaceSubrange(0..<32, with: other.stored[0..<32])
        #expect(throws: ProtectedFileError.authenticationFailed(chunk: 0)) { try open(headerSwapped, scheme: scheme, key: s.key) }
    }

    @Test(arguments: all) func appendedData(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        for extra in [[0] as [UInt8], pattern(28), pattern(64 + 28)] {
            #expect(throws: ProtectedFileError.self) { try open(s.stored + extra, scheme: scheme, key: s.key, iv: s.iv) }
        }
        if scheme.isChunked {
            // A whole chunk sealed by the key holder for index 4 still fails: chunk 3 was sealed as last.
            let header = try ChunkedFileHeader(parsing: Array(s.stored[0..<32]), expected: scheme)
            let cipher = try ChunkedFileCipher(header: header, key: s.key)
            let (record, _) = try pattern(5).withUnsafeBytes { try cipher.seal($0, index: 4, isLast: true) }
            #expect(throws: ProtectedFileError.authenticationFailed(chunk: 3)) { try open(s.stored + record, scheme: scheme, key: s.key) }
        }
    }

    @Test(arguments: chunked) func newerVersionIsRefused(_ scheme: Scheme) throws {
        let s = try sample(scheme)
        var newer = s.stored
        newer[8] = 0
        newer[9] = 2
        #expect(throws: ProtectedFileError.unsupportedVersion(found: 2, supported: 1)) { try open(newer, scheme: scheme, key: s.key) }
        var badMagic = s.stored
        badMagic[0] = UInt8(ascii: "X")
        #expect(throws: ProtectedFileError.badHeader("not a cloister-file (bad magic)")) { try open(badMagic, scheme: scheme, key: s.key) }
        #expect(throws: ProtectedFileError.self) { try open(Array(s.stored[0..<20]), scheme: scheme, key: s.key) }
    }

    /// The guarantee `cloister decrypt` gives: a failed decryption leaves no output file, for a
    /// tag failure found only at the very end (aes-gcm) and one found mid-file (cloister-file).
    @Test(arguments: all) func failedDecryptLeavesNoOutput(_ scheme: Scheme) throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = randomKey(scheme), iv: [UInt8]? = scheme.takesIV ? pattern(12) : nil
        let plain = directory.appendingPathComponent("plain").path
        let sealed = directory.appendingPathComponent("sealed").path
        let out = directory.appendingPathComponent("out").path
        try Data(pattern(3 * 65536 + 99)).write(to: URL(fileURLWithPath: plain))
        try ProtectedFileTool.encrypt(input: plain, output: sealed, scheme: scheme, key: key, iv: iv)
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: sealed)))
        bytes[bytes.count - 1] ^= 1
        try Data(bytes).write(to: URL(fileURLWithPath: sealed))
        #expect(throws: ProtectedFileError.self) {
            try ProtectedFileTool.decrypt(input: sealed, output: out, scheme: scheme, key: key, iv: iv)
        }
        var wrongKey = key
        wrongKey[3] ^= 4
        #expect(throws: ProtectedFileError.self) {
            try ProtectedFileTool.decrypt(input: sealed, output: out, scheme: scheme, key: wrongKey, iv: iv)
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["plain", "sealed"])
        // Encrypting with raw is refused and leaves nothing either.
        #expect(throws: ProtectedFileError.rawNotAllowedForOutput) {
            try ProtectedFileTool.encrypt(input: plain, output: out, scheme: .raw, key: [])
        }
        #expect(!FileManager.default.fileExists(atPath: out))
    }
}
