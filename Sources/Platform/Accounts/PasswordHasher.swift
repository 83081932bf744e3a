import Foundation
import HummingbirdBcrypt

/// Hashes passwords with bcrypt: slow on purpose and salted per password.
public struct PasswordHasher: Sendable {
    /// The bcrypt cost: each step doubles the work (12 ≈ 0.2 s of a core).
    public let cost: UInt8

    public init(cost: UInt8 = 12) {
        self.cost = cost
    }

    /// The hash of `password` (a fresh salt each time). Runs off the caller's executor.
    func hash(_ password: String) async -> String {
        let cost = cost
        return await Task.detached { Bcrypt.hash(password, cost: cost) }.value
    }

    /// Whether `password` matches `hash`.
    func verify(_ password: String, against hash: String) async -> Bool {
        await Task.detached { Bcrypt.verify(password, hash: hash) }.value
    }

    /// A random password of 24 letters and digits (about 143 bits).
    static func randomPassword() -> String {
        let alphabet = Array("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }
}
