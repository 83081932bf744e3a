import Crypto
import Testing
@testable import ProtectedFiles

/// AES-GCM test cases from McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)"
/// (the NIST GCM submission), 128- and 256-bit keys with 96-bit IVs, checked against both the
/// streaming AES-GCM of the aes-gcm schemes and swift-crypto's one-shot AES-GCM.
@Suite struct KnownAnswerTests {
    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        var iv: String
        var plaintext: String
        var aad: String
        var ciphertext: String
        var tag: String
        var testDescription: String { name }
    }

    static let p64 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255"
    static let p60 = "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
    static let aad = "feedfacedeadbeeffeedfacedeadbeefabaddad2"
    static let k128 = "feffe9928665731c6d6a8f9467308308"

    static let vectors: [Vector] = [
        Vector(name: "Test Case 1", key: "00000000000000000000000000000000", iv: "000000000000000000000000",
               plaintext: "", aad: "", ciphertext: "", tag: "58e2fccefa7e3061367f1d57a4e7455a"),
        Vector(name: "Test Case 2", key: "00000000000000000000000000000000", iv: "000000000000000000000000",
               plaintext: "00000000000000000000000000000000", aad: "",
               ciphertext: "0388dace60b6a392f328c2b971b2fe78", tag: "ab6e47d42cec13bdf53a67b21257bddf"),
        Vector(name: "Test Case 3", key: k128, iv: "cafebabefacedbaddecaf888", plaintext: p64, aad: "",
               ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
               tag: "4d5c2af327cd64a62cf35abd2ba6fab4"),
        Vector(name: "Test Case 4", key: k128, iv: "cafebabefacedbaddecaf888", plaintext: p60, aad: aad,
               ciphertext: "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
               tag: "5bc94fbc3221a5db94fae95ae7121a47"),
        Vector(name: "Test Case 13", key: String(repeating: "0", count: 64), iv: "000000000000000000000000",
               plaintext: "", aad: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(name: "Test Case 14", key: String(repeating: "0", count: 64), iv: "000000000000000000000000",
               plaintext: "00000000000000000000000000000000", aad: "",
               ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(name: "Test Case 15", key: k128 + k128, iv: "cafebabefacedbaddecaf888", plaintext: p64, aad: "",
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
               tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(name: "Test Case 16", key: k128 + k128, iv: "cafebabefacedbaddecaf888", plaintext: p60, aad: aad,
               ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
               tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test(arguments: vectors) func streamingAESGCMMatchesTheVector(_ v: Vector) throws {
        // Whole, then in 16-byte pieces with a partial last one.
        for pieceSize in [Int.max, 16, 32] {
            var stream = try AESGCMStream(key: hex(v.key), iv: hex(v.iv), associatedData: hex(v.aad))
            let plaintext = hex(v.plaintext)
            var ciphertext = [UInt8]()
            var start = 0
            while start < plaintext.count {
                let end = pieceSize == Int.max ? plaintext.count : min(plaintext.count, start + pieceSize)
                ciphertext += try Array(plaintext[start..<end]).withUnsafeBytes { try stream.process($0, encrypting: true) }
                start = end
            }
            #expect(Hex.encode(ciphertext) == v.ciphertext)
            #expect(Hex.encode(stream.finish()) == v.tag)

            var decryptor = try AESGCMStream(key: hex(v.key), iv: hex(v.iv), associatedData: hex(v.aad))
            let back = try ciphertext.withUnsafeBytes { try decryptor.process($0, encrypting: false) }
            #expect(back == plaintext)
            #expect(Hex.encode(decryptor.finish()) == v.tag)
        }
    }

    @Test(arguments: vectors) func swiftCryptoAgreesWithTheVector(_ v: Vector) throws {
        let box = try AES.GCM.seal(hex(v.plaintext), using: SymmetricKey(data: hex(v.key)),
                                   nonce: AES.GCM.Nonce(data: hex(v.iv)), authenticating: hex(v.aad))
        #expect(Hex.encode(box.ciphertext) == v.ciphertext)
        #expect(Hex.encode(box.tag) == v.tag)
    }

    /// The aes-gcm schemes are one-shot AES-GCM with associated data of 8 zero bytes (Teaclave's
    /// layout): the streamed file equals ciphertext ‖ tag from swift-crypto, for many lengths.
    @Test func aesGCMSchemeEqualsOneShotSeal() throws {
        for scheme in [Scheme.aesGCM128, .aesGCM256] {
            for length in [0, 1, 15, 16, 17, 100, 1000, (1 << 20) + 33] {
                let key = randomKey(scheme), iv = (0..<12).map { _ in UInt8.random(in: 0...255) }
                let plaintext = pattern(length, seed: UInt64(length))
                let (stored, tag) = try seal(plaintext, scheme: scheme, key: key, iv: iv)
                let box = try AES.GCM.seal(plaintext, using: SymmetricKey(data: key), nonce: AES.GCM.Nonce(data: iv),
                                           authenticating: [UInt8](repeating: 0, count: 8))
                #expect(stored == Array(box.ciphertext) + Array(box.tag), "length \(length)")
                #expect(tag == Array(box.tag))
            }
        }
    }
}
