import Crypto
import _CryptoExtras
import Foundation

/// Whole-file AES-GCM as a stream: the keystream from AES-CTR starting at counter 2, GHASH over
/// the associated data and the ciphertext, the tag at the end. Its output equals one-shot
/// `AES.GCM.seal` with a 12-byte nonce. Every call but the last must pass a multiple of 16 bytes.
struct AESGCMStream {
    /// The largest plaintext GCM allows with a 12-byte IV: 2^32 − 2 blocks.
    static let maxPlaintext: UInt64 = (UInt64(1) << 32 - 2) * 16

    private let key: SymmetricKey
    private let iv: [UInt8]
    private var ghash: GHash
    private let encryptedJ0: [UInt8]
    private var counter: UInt64 = 2
    private var aadLength: UInt64
    private var textLength: UInt64 = 0
    private var sawPartialBlock = false

    init(key: [UInt8], iv: [UInt8], associatedData: [UInt8]) throws {
        self.key = SymmetricKey(data: key)
        self.iv = iv
        var zero = [UInt8](repeating: 0, count: 16)
        try AES.permute(&zero, key: self.key)
        ghash = GHash(h: zero)
        var j0 = iv + [0, 0, 0, 1]
        try AES.permute(&j0, key: self.key)
        encryptedJ0 = j0
        ghash.update(associatedData)
        ghash.padToBlock()
        aadLength = UInt64(associatedData.count)
    }

    /// Encrypts (or decrypts) the next piece of the file.
    mutating func process(_ input: UnsafeRawBufferPointer, encrypting: Bool) throws -> [UInt8] {
        guard !input.isEmpty else { return [] }
        precondition(!sawPartialBlock, "only the last piece of an AES-GCM stream may be a partial block")
        guard textLength + UInt64(input.count) <= AESGCMStream.maxPlaintext else {
            throw ProtectedFileError.tooLarge("aes-gcm files hold at most \(AESGCMStream.maxPlaintext) bytes")
        }
        if input.count % 16 != 0 { sawPartialBlock = true }
        let c = UInt32(truncatingIfNeeded: counter)
        let nonce = try AES._CTR.Nonce(nonceBytes: iv + [UInt8(c >> 24), UInt8(c >> 16 & 0xff), UInt8(c >> 8 & 0xff), UInt8(c & 0xff)])
        let output = [UInt8](try AES._CTR.encrypt(input, using: key, nonce: nonce))
        if encrypting {
            output.withUnsafeBytes { ghash.update($0) }
        } else {
            ghash.update(input)
        }
        counter += UInt64((input.count + 15) / 16)
        textLength += UInt64(input.count)
        return output
    }

    /// The 16-byte tag over everything processed.
    mutating func finish() -> [UInt8] {
        ghash.padToBlock()
        var lengths = [UInt8]()
        for value in [aadLength * 8, textLength * 8] {
            for k in 0..<8 { lengths.append(UInt8(truncatingIfNeeded: value >> (56 - 8 * UInt64(k)))) }
        }
        ghash.update(lengths)
        return zip(ghash.state, encryptedJ0).map { $0 ^ $1 }
    }
}

/// Compares two byte strings in time independent of where they differ.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
