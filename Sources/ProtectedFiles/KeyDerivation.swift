import Crypto

/// Keys derived from another key, for purposes that must not share one.
public enum KeyDerivation {
    /// `size` bytes of HKDF-SHA256 of `key` with no salt and `info` = "cloister/v1/" + `label`.
    public static func derive(from key: [UInt8], label: String, size: Int) -> [UInt8] {
        let derived = HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: key), info: Array("cloister/v1/\(label)".utf8), outputByteCount: size)
        return derived.withUnsafeBytes { Array($0) }
    }
}
