import Foundation
import Testing
@testable import ProtectedFiles

/// Every scheme, every awkward length, in memory and through host files.
@Suite struct RoundTripTests {
    static let chunk = 64
    /// Empty, under one chunk, exactly one chunk, exact multiples, and several chunks with a tail.
    static let lengths = [0, 1, 63, chunk, chunk + 1, 2 * chunk, 5 * chunk, 7 * chunk + 13, 1000]

    @Test(arguments: [Scheme.aesGCM128, .aesGCM256, .cloisterFile128, .cloisterFile256])
    func roundTripsEveryLength(_ scheme: Scheme) throws {
        for length in RoundTripTests.lengths {
            let key = randomKey(scheme)
            let iv: [UInt8]? = scheme.takesIV ? pattern(12, seed: 99) : nil
            let plaintext = pattern(length, seed: UInt64(length) + 7)
            let (stored, tag) = try seal(plaintext, scheme: scheme, key: key, iv: iv, chunkSize: RoundTripTests.chunk)
            let (back, readTag) = try open(stored, scheme: scheme, key: key, iv: iv)
            #expect(back == plaintext, "\(scheme.rawValue) length \(length)")
            #expect(readTag == tag)
            #expect(tag.count == (scheme.isChunked ? 32 : 16))
            if scheme.isChunked {
                #expect(UInt64(stored.count) == ChunkedFileLayout.storedSize(plaintextSize: UInt64(length), chunkSize: RoundTripTests.chunk))
                let reader = try ProtectedFileReader(scheme: scheme, key: key, input: MemoryFile(stored))
                #expect(reader.plaintextSize == UInt64(length))
                // Exact multiples end with a full last chunk; an empty file has one empty chunk.
                #expect(reader.chunkCount == UInt64(max(1, (length + RoundTripTests.chunk - 1) / RoundTripTests.chunk)))
            } else {
                #expect(stored.count == length + 16)
            }
        }
    }

    @Test func rawPassesThroughForInputsOnly() throws {
        let plaintext = pattern(300)
        #expect(throws: ProtectedFileError.rawNotAllowedForOutput) {
            _ = try ProtectedFileWriter(scheme: .raw, key: [], output: MemoryFile())
        }
        let (stored, tag) = try seal(plaintext, scheme: .raw, key: [], allowRaw: true)
        #expect(stored == plaintext && tag.isEmpty)
        #expect(try open(plaintext, scheme: .raw, key: []).plaintext == plaintext)
        #expect(try open([], scheme: .raw, key: []).plaintext == [])
    }

    @Test func chunksReadAtRandom() throws {
        let key = randomKey(.cloisterFile256)
        let plaintext = pattern(10 * 64 + 5)
        let (stored, _) = try seal(plaintext, scheme: .cloisterFile256, key: key)
        let reader = try ProtectedFileReader(scheme: .cloisterFile256, key: key, input: MemoryFile(stored))
        #expect(reader.chunkCount == 11)
        for index in [10, 3, 0, 7] as [UInt64] {
            let start = Int(index) * 64
            #expect(try reader.readChunk(at: index) == Array(plaintext[start..<min(plaintext.count, start + 64)]))
        }
        #expect(throws: ProtectedFileError.self) { try reader.readChunk(at: 11) }
        let gcm = try ProtectedFileReader(scheme: .aesGCM128, key: randomKey(.aesGCM128), iv: pattern(12), input: MemoryFile(pattern(40)))
        #expect(throws: ProtectedFileError.self) { try gcm.readChunk(at: 0) }
    }

    /// A chunk rewritten in place (as `sefs` will do) reads back, with a fresh nonce.
    @Test func chunkRewriteInPlace() throws {
        let key = randomKey(.cloisterFile128)
        var plaintext = pattern(3 * 64 + 10)
        var (stored, _) = try seal(plaintext, scheme: .cloisterFile128, key: key)
        let header = try ChunkedFileHeader(parsing: Array(stored[0..<32]), expected: .cloisterFile128)
        let cipher = try ChunkedFileCipher(header: header, key: key)
        let replacement = pattern(64, seed: 42)
        let (record, _) = try replacement.withUnsafeBytes { try cipher.seal($0, index: 1, isLast: false) }
        let offset = Int(header.recordOffset(1))
        #expect(Array(stored[offset..<offset + 12]) != Array(record[0..<12]))
        stored.replaceSubrange(offset..<offset + record.count, with: record)
        plaintext.replaceSubrange(64..<128, with: replacement)
        #expect(try open(stored, scheme: .cloisterFile128, key: key).plaintext == plaintext)
    }

    @Test func largeChunkedFileThroughHostFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = directory.appendingPathComponent("plain").path
        let sealed = directory.appendingPathComponent("sealed").path
        let back = directory.appendingPathComponent("back").path
        let data = pattern(3 * 65536 + 1234)
        try Data(data).write(to: URL(fileURLWithPath: plain))
        for scheme in [Scheme.cloisterFile128, .aesGCM256] {
            try? FileManager.default.removeItem(atPath: sealed)
            try? FileManager.default.removeItem(atPath: back)
            let key = randomKey(scheme), iv: [UInt8]? = scheme.takesIV ? pattern(12) : nil
            var reports = 0
            let tag = try ProtectedFileTool.encrypt(input: plain, output: sealed, scheme: scheme, key: key, iv: iv) { _, _ in reports += 1 }
            #expect(reports > 0)
            let readTag = try ProtectedFileTool.decrypt(input: sealed, output: back, scheme: scheme, key: key, iv: iv)
            #expect(tag == readTag)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: back))) == data)
            // Nothing but the three files is left behind.
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() == ["back", "plain", "sealed"])
        }
    }

    @Test func schemesParseFromStrings() throws {
        for scheme in Scheme.allCases { #expect(try Scheme(parsing: scheme.rawValue) == scheme) }
        let error = #expect(throws: ProtectedFileError.self) { try Scheme(parsing: "aes-gcm-512") }
        #expect(error?.description.contains("cloister-file-256") == true)
    }
}
