import Crypto
import Foundation

/// `builtin-online-decrypt`: decrypts a short AES-GCM message given in the arguments.
///
/// Arguments `key` (base64, 16 bytes for "aes128gcm", 32 for "aes256gcm"), `nonce` (base64, 12
/// bytes), `encrypted_data` (base64 of the ciphertext followed by the 16-byte tag, no associated
/// data: Teaclave's layout) and `algorithm` ("aes128gcm" or "aes256gcm"). Result: the plaintext,
/// which must be UTF-8 text.
enum OnlineDecrypt: BuiltinFunction {
    static let name = "builtin-online-decrypt"
    static let signature = BuiltinSignature(arguments: ["algorithm", "key", "nonce", "encrypted_data"], inputs: [], outputs: [])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let keySize = try arguments.choice("algorithm", from: [("aes128gcm", 16), ("aes256gcm", 32)])
        let key = try base64(arguments, "key")
        guard key.count == keySize else {
            throw ExecutorError.invalidArgument(
                name: "key", reason: "must be \(keySize) bytes for AES-\(keySize * 8)-GCM, got \(key.count)")
        }
        let nonce = try base64(arguments, "nonce")
        guard nonce.count == 12 else {
            throw ExecutorError.invalidArgument(name: "nonce", reason: "must be 12 bytes, got \(nonce.count)")
        }
        let sealed = try base64(arguments, "encrypted_data")
        guard sealed.count >= 16 else {
            throw ExecutorError.invalidArgument(name: "encrypted_data", reason: "must hold at least the 16-byte tag, got \(sealed.count) bytes")
        }
        let plaintext: Data
        do {
            let box = try AES.GCM.SealedBox(
                nonce: try AES.GCM.Nonce(data: nonce), ciphertext: sealed.dropLast(16), tag: sealed.suffix(16))
            plaintext = try AES.GCM.open(box, using: SymmetricKey(data: key))
        } catch {
            throw ExecutorError.crypto("decryption failed: wrong key or nonce, or the data was modified")
        }
        guard let text = String(validating: plaintext, as: UTF8.self) else {
            throw ExecutorError.crypto("the decrypted data is not UTF-8 text")
        }
        return text
    }

    private static func base64(_ arguments: FunctionArguments, _ name: String) throws(ExecutorError) -> Data {
        guard let bytes = Data(base64Encoded: try arguments.string(name)) else {
            throw .invalidArgument(name: name, reason: "is not valid base64")
        }
        return bytes
    }
}
