import Crypto
import Foundation
import _CryptoExtras

/// `builtin-rsa-sign`: signs the argument `data` with an RSA private key.
///
/// Input `rsa_key`: a DER RSA private key of 2048 bits or more (PKCS#1 `RSAPrivateKey` or PKCS#8).
/// Result: the base64 RSASSA-PKCS1-v1_5 signature of the UTF-8 bytes of `data` with SHA-256
/// (Teaclave's `RSA_PKCS1_SHA256`).
enum RSASign: BuiltinFunction {
    static let name = "builtin-rsa-sign"
    static let signature = BuiltinSignature(arguments: ["data"], inputs: ["rsa_key"], outputs: [])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let data = try arguments.string("data")
        let input = try runtime.openInput("rsa_key")
        let der = try input.readAll()
        let key: _RSA.Signing.PrivateKey
        do {
            key = try _RSA.Signing.PrivateKey(derRepresentation: der)
        } catch {
            throw ExecutorError.badInput(
                name: input.name, line: nil, reason: "not a DER RSA private key (PKCS#1 or PKCS#8) of 2048 bits or more")
        }
        do {
            return try key.signature(for: Data(data.utf8), padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        } catch {
            throw ExecutorError.crypto("RSA signing failed: \(error)")
        }
    }
}
