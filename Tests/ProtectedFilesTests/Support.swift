import Foundation
@testable import ProtectedFiles

/// Hex literal → bytes (test vectors).
func hex(_ text: String) -> [UInt8] { try! Hex.decode(text) }

/// Deterministic pseudo-random bytes.
func pattern(_ count: Int, seed: UInt64 = 1) -> [UInt8] {
    var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
    return (0..<count).map { _ in
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return UInt8(truncatingIfNeeded: state)
    }
}

func randomKey(_ scheme: Scheme) -> [UInt8] { (0..<scheme.keySize).map { _ in UInt8.random(in: 0...255) } }

/// Encrypts in irregular pieces, in memory.
func seal(_ plaintext: [UInt8], scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil, chunkSize: Int = 64, allowRaw: Bool = false) throws -> (stored: [UInt8], tag: [UInt8]) {
    let output = MemoryFile()
    let writer = try ProtectedFileWriter(scheme: scheme, key: key, iv: iv, chunkSize: chunkSize, output: output, allowRaw: allowRaw)
    var start = 0
    var step = 1
    while start < plaintext.count {
        let end = min(plaintext.count, start + step)
        try writer.write(Array(plaintext[start..<end]))
        start = end
        step = step * 3 + 1
    }
    let tag = try writer.finish()
    return (output.bytes, tag)
}

/// Decrypts sequentially, in memory.
func open(_ stored: [UInt8], scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil) throws -> (plaintext: [UInt8], tag: [UInt8]) {
    let reader = try ProtectedFileReader(scheme: scheme, key: key, iv: iv, input: MemoryFile(stored))
    var out = [UInt8]()
    while let piece = try reader.read() { out += piece }
    return (out, reader.tag!)
}

/// A fresh temporary directory.
func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("pf-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
}
