import Crypto
import Foundation
import Testing
@testable import ProtectedFiles

/// docs/file-format.md, implemented again from the text with swift-crypto primitives only: files
/// built this way must read back, and files the writer makes must open this way.
@Suite struct FormatSpecTests {
    static func be<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Builds a cloister-file from the documented recipe.
    static func build(plaintext: [UInt8], key: [UInt8], chunkSize: Int, schemeID: UInt16) throws -> (file: [UInt8], tag: [UInt8]) {
        let nonce = (0..<16).map { _ in UInt8.random(in: 0...255) }
        let header = Array("CLOISTRF".utf8) + be(UInt16(1)) + be(schemeID) + be(UInt32(chunkSize)) + nonce
        let chunkKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key), salt: nonce,
                                              info: Array("cloister-file/v1/chunk-key".utf8) + header, outputByteCount: key.count)
        let n = max(1, (plaintext.count + chunkSize - 1) / chunkSize)
        var file = header
        var hash = SHA256()
        hash.update(data: header)
        for i in 0..<n {
            let chunk = Array(plaintext[min(plaintext.count, i * chunkSize)..<min(plaintext.count, (i + 1) * chunkSize)])
            let aad = header + be(UInt64(i)) + [i == n - 1 ? 1 : 0]
            let box = try AES.GCM.seal(chunk, using: chunkKey, nonce: AES.GCM.Nonce(), authenticating: aad)
            file += Array(box.nonce) + Array(box.ciphertext) + Array(box.tag)
            hash.update(data: Array(box.tag))
        }
        return (file, Array(hash.finalize()))
    }

    @Test func documentedRecipeReadsBack() throws {
        for (scheme, id) in [(Scheme.cloisterFile128, UInt16(1)), (.cloisterFile256, 2)] {
            for length in [0, 5, 100, 300] {
                let key = randomKey(scheme)
                let plaintext = pattern(length)
                let (file, tag) = try FormatSpecTests.build(plaintext: plaintext, key: key, chunkSize: 100, schemeID: id)
                let (back, readTag) = try open(file, scheme: scheme, key: key)
                #expect(back == plaintext)
                #expect(readTag == tag)
            }
        }
    }

    @Test func writerOutputMatchesTheDocumentedLayout() throws {
        let key = randomKey(.cloisterFile256)
        let plaintext = pattern(250)
        let (file, tag) = try seal(plaintext, scheme: .cloisterFile256, key: key, chunkSize: 100)
        #expect(file.count == 32 + 250 + 3 * 28)
        #expect(Array(file[0..<16]) == Array("CLOISTRF".utf8) + [0, 1, 0, 2, 0, 0, 0, 100])
        let header = Array(file[0..<32])
        let chunkKey = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: key), salt: Array(file[16..<32]),
                                              info: Array("cloister-file/v1/chunk-key".utf8) + header, outputByteCount: 32)
        var hash = SHA256()
        hash.update(data: header)
        var recovered = [UInt8]()
        var offset = 32
        for i in 0..<3 {
            let size = i < 2 ? 128 : 50 + 28
            let record = Array(file[offset..<offset + size])
            let box = try AES.GCM.SealedBox(nonce: AES.GCM.Nonce(data: record[0..<12]), ciphertext: record[12..<size - 16], tag: record[(size - 16)...])
            recovered += try AES.GCM.open(box, using: chunkKey, authenticating: header + FormatSpecTests.be(UInt64(i)) + [i == 2 ? 1 : 0])
            hash.update(data: Array(record[(size - 16)...]))
            offset += size
        }
        #expect(recovered == plaintext)
        #expect(Array(hash.finalize()) == tag)
    }

    /// Streams several GiB through host files in constant memory. Opt-in (slow in debug builds):
    /// `CLOISTER_BIG_FILE_GIB=4 swift test --filter ProtectedFilesTests.FormatSpecTests`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["CLOISTER_BIG_FILE_GIB"] != nil))
    func multiGiBStream() throws {
        let gib = Int(ProcessInfo.processInfo.environment["CLOISTER_BIG_FILE_GIB"] ?? "") ?? 4
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("big").path
        let key = randomKey(.cloisterFile128)
        var block = pattern(1 << 20)
        let writer = try ProtectedFileWriter(scheme: .cloisterFile128, key: key, output: try HostFile.create(path))
        for i in 0..<(gib << 10) {
            block[0] = UInt8(truncatingIfNeeded: i)
            try writer.write(block)
        }
        let tag = try writer.finish()
        let reader = try ProtectedFileReader(scheme: .cloisterFile128, key: key, input: try HostFile.openForReading(path))
        #expect(reader.plaintextSize == UInt64(gib) << 30)
        var total: UInt64 = 0
        while let piece = try reader.read() {
            if total % (1 << 20) == 0 { #expect(piece[0] == UInt8(truncatingIfNeeded: total >> 20)) }
            total += UInt64(piece.count)
        }
        #expect(total == UInt64(gib) << 30)
        #expect(reader.tag == tag)
    }
}
