import Crypto
import Foundation
import Synchronization

/// Signs and checks the API's bearer tokens: JSON Web Tokens (RFC 7519) signed with HS256.
///
/// The claims are the user (`sub`), the expiry (`exp`), the issue time (`iat`), the token's own
/// random id (`jti`, which a logout revokes) and the user's credential generation (`gen`), which a
/// password change or reset bumps so that older tokens stop working. The key is 32 random bytes
/// the platform keeps in its data folder.
public struct TokenSigner: Sendable {
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }
    /// How long a token is valid.
    public let lifetime: TimeInterval
    /// The claims of tokens whose signature verified (every request carries one; most carry one
    /// seen before): a token's signature and claims never change, only whether it has expired.
    private let verified = VerifiedTokens()

    struct Claims: Codable, Sendable {
        var sub: String
        var exp: Int
        var iat: Int
        var gen: Int
        var jti: String
    }

    public init(key: [UInt8], lifetime: TimeInterval) {
        keyBytes = key
        self.lifetime = lifetime
    }

    private static let header = base64URL(Data(#"{"alg":"HS256","typ":"JWT"}"#.utf8))

    /// A token for `user` at credential generation `generation`, and when it expires.
    func sign(user: String, generation: Int, now: Date = Date()) -> (token: String, expiresAt: Date) {
        let expiresAt = now.addingTimeInterval(lifetime)
        let claims = Claims(
            sub: user, exp: Int(expiresAt.timeIntervalSince1970), iat: Int(now.timeIntervalSince1970), gen: generation,
            jti: Self.base64URL(SymmetricKey(size: .bits128).withUnsafeBytes { Data($0) }))
        let payload = Self.base64URL(try! JSONEncoder().encode(claims))
        let signingInput = Self.header + "." + payload
        let signature = HMAC<SHA256>.authenticationCode(for: Data(signingInput.utf8), using: key)
        return (signingInput + "." + Self.base64URL(Data(signature)), Date(timeIntervalSince1970: TimeInterval(claims.exp)))
    }

    /// The claims of a token whose signature verifies and which has not expired; nil otherwise.
    func verify(_ token: String, now: Date = Date()) -> Claims? {
        guard let claims = verified.claims(of: token) ?? checkSignature(token) else { return nil }
        return TimeInterval(claims.exp) > now.timeIntervalSince1970 ? claims : nil
    }

    /// The claims of a token whose signature verifies (remembered), whether or not it expired.
    private func checkSignature(_ token: String) -> Claims? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, String(parts[0]) == Self.header,
            let signature = Self.decodeBase64URL(String(parts[2])),
            HMAC<SHA256>.isValidAuthenticationCode(signature, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: key),
            let payload = Self.decodeBase64URL(String(parts[1])),
            let claims = try? JSONDecoder().decode(Claims.self, from: payload)
        else { return nil }
        verified.remember(claims, of: token)
        return claims
    }

    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> Data? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64)
    }
}

/// Tokens whose signature verified, with their claims; at most `limit` (then forgotten at once).
private final class VerifiedTokens: Sendable {
    private let tokens = Mutex<[String: TokenSigner.Claims]>([:])
    private let limit = 10_000

    func claims(of token: String) -> TokenSigner.Claims? {
        tokens.withLock { $0[token] }
    }

    func remember(_ claims: TokenSigner.Claims, of token: String) {
        tokens.withLock { tokens in
            if tokens.count >= limit { tokens = [:] }
            tokens[token] = claims
        }
    }
}
