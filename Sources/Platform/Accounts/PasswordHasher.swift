import Foundation
import HummingbirdBcrypt

/// Hashes passwords with bcrypt (slow on purpose, salted per password) on a pool of its own.
///
/// bcrypt reads at most 72 bytes and stops at a NUL byte, so a longer password would match any
/// password sharing its first 72 bytes, and one starting with NUL would match the empty one.
/// Cloister refuses both (`Validation.password`): a password is 8 to 72 bytes without NUL.
/// A password given at login that breaks these rules never matches (it still costs a hash).
public struct PasswordHasher: Sendable {
    /// The bcrypt cost: each step doubles the work (12 ≈ 0.2 s of a core).
    public let cost: UInt8
    let pool: BcryptPool

    init(cost: UInt8, pool: BcryptPool) {
        self.cost = cost
        self.pool = pool
    }

    /// The hash of `password` (a fresh salt each time).
    func hash(_ password: String) async throws(PlatformError) -> String {
        let cost = cost
        return try await pool.run { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`; never for a password bcrypt would cut short.
    func verify(_ password: String, against hash: String) async throws(PlatformError) -> Bool {
        let acceptable = Validation.isAcceptablePassword(password)
        let matches = try await pool.run { Bcrypt.verify(acceptable ? password : "", hash: hash) }
        return acceptable && matches
    }

    /// A random password of 24 letters and digits (about 143 bits).
    static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
