import Crypto
import Foundation
import Testing
import _CryptoExtras
@testable import Executors

@Suite struct CryptoBuiltinTests {
    @Test func rsaSignatureVerifiesWithThePublicKey() throws {
        let workspace = try Workspace()
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let pkcs1 = [UInt8](key.derRepresentation)
        let pkcs8 = [UInt8](Data(base64Encoded: key.pkcs8PEMRepresentation.split(separator: "\n").filter { !$0.hasPrefix("-----") }.joined())!)
        #expect(pkcs8 != pkcs1)
        let message = "transfer 100 to account 42"
        var signatures: [String] = []
        for der in [pkcs1, pkcs8] {
            let runtime = FunctionRuntime(plaintextInputs: ["rsa_key": try workspace.write("key.der", der)])
            let signature = try BuiltinExecutor().execute(name: "builtin-rsa-sign", arguments: ["data": .string(message)], payload: [], runtime: runtime)
            let bytes = try #require(Data(base64Encoded: signature))
            #expect(bytes.count == 256)
            let parsed = _RSA.Signing.RSASignature(rawRepresentation: bytes)
            #expect(key.publicKey.isValidSignature(parsed, for: Data(message.utf8), padding: .insecurePKCS1v1_5))
            #expect(!key.publicKey.isValidSignature(parsed, for: Data("transfer 900 to account 42".utf8), padding: .insecurePKCS1v1_5))
            signatures.append(signature)
        }
        // PKCS#1 v1.5 signatures are deterministic: both encodings of the key sign alike.
        #expect(signatures[0] == signatures[1])
    }

    @Test func rsaSignBadArgumentsAndKeys() throws {
        let workspace = try Workspace()
        let small = try _RSA.Signing.PrivateKey(unsafeKeySize: .init(bitCount: 1024))
        func sign(_ arguments: FunctionArguments, key: [UInt8]) -> String? {
            failure {
                let runtime = FunctionRuntime(plaintextInputs: ["rsa_key": try workspace.write("key.der", key)])
                return try BuiltinExecutor().execute(name: "builtin-rsa-sign", arguments: arguments, payload: [], runtime: runtime)
            }
        }
        let notAKey = #"input "rsa_key": not a DER RSA private key (PKCS#1 or PKCS#8) of 2048 bits or more"#
        #expect(sign([:], key: [1, 2, 3]) == #"missing argument "data""#)
        #expect(sign(["data": ["a"]], key: [1, 2, 3]) == #"argument "data" must be a string, got ["a"]"#)
        #expect(sign(["data": "x"], key: Array("not a key".utf8)) == notAKey)
        #expect(sign(["data": "x"], key: [UInt8](small.derRepresentation)) == notAKey)
        #expect(sign(["data": "x"], key: [UInt8](small.publicKey.derRepresentation)) == notAKey)
    }

    /// Teaclave's example: "Hello Teaclave!" under a fixed AES-256-GCM key and the nonce 0…11.
    @Test func onlineDecryptOfTeaclavesExample() throws {
        let workspace = try Workspace()
        let arguments: FunctionArguments = [
            "key": "aqUdgZ0lJnuz9yiPkoDxM6ZcTcVVpd4KKLqzbHD88Lg=", "nonce": "AAECAwQFBgcICQoL",
            "encrypted_data": "CaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw==", "algorithm": "aes256gcm",
        ]
        #expect(try workspace.run("builtin-online-decrypt", arguments).result == "Hello Teaclave!")
    }

    @Test func onlineDecryptOfWhatTheTestEncrypts() throws {
        let workspace = try Workspace()
        for (algorithm, size) in [("aes128gcm", SymmetricKeySize.bits128), ("aes256gcm", .bits256)] {
            let key = SymmetricKey(size: size)
            let nonce = AES.GCM.Nonce()
            let sealed = try AES.GCM.seal(Data("Grüße, Cloister — \(algorithm)".utf8), using: key, nonce: nonce)
            let arguments: FunctionArguments = [
                "key": .string(key.withUnsafeBytes { Data($0) }.base64EncodedString()),
                "nonce": .string(Data(nonce).base64EncodedString()),
                "encrypted_data": .string((sealed.ciphertext + sealed.tag).base64EncodedString()),
                "algorithm": .string(algorithm),
            ]
            #expect(try workspace.run("builtin-online-decrypt", arguments).result == "Grüße, Cloister — \(algorithm)")
        }
    }

    @Test func onlineDecryptBadArguments() throws {
        let workspace = try Workspace()
        let good: [String: JSONValue] = [
            "key": "aqUdgZ0lJnuz9yiPkoDxM6ZcTcVVpd4KKLqzbHD88Lg=", "nonce": "AAECAwQFBgcICQoL",
            "encrypted_data": "CaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw==", "algorithm": "aes256gcm",
        ]
        func decrypt(_ name: String, _ value: JSONValue?) -> String? {
            var values = good
            values[name] = value
            return failure { try workspace.run("builtin-online-decrypt", FunctionArguments(values)) }
        }
        #expect(decrypt("key", nil) == #"missing argument "key""#)
        #expect(decrypt("algorithm", "aes192gcm") == #"argument "algorithm" must be one of "aes128gcm", "aes256gcm", got "aes192gcm""#)
        #expect(decrypt("algorithm", "aes128gcm") == #"argument "key" must be 16 bytes for AES-128-GCM, got 32"#)
        #expect(decrypt("key", "not base64!") == #"argument "key" is not valid base64"#)
        #expect(decrypt("nonce", "AAECAwQFBgcICQ==") == #"argument "nonce" must be 12 bytes, got 10"#)
        #expect(decrypt("encrypted_data", "AAEC") == #"argument "encrypted_data" must hold at least the 16-byte tag, got 3 bytes"#)
        #expect(decrypt("encrypted_data", "DaZd8qSMMlBp8SjSXj2I4dQIuC9KkZ5DI/ATo1sWJw==") == "decryption failed: wrong key or nonce, or the data was modified")
        #expect(decrypt("nonce", "AQECAwQFBgcICQoL") == "decryption failed: wrong key or nonce, or the data was modified")
        #expect(decrypt("nonce", 12) == #"argument "nonce" must be a string, got 12"#)
    }
}
