import Foundation

/// Parses and formats the byte sizes used in `Cloister.json`, such as `"32MB"` or `"1GB"`.
///
/// A size is a run of ASCII digits followed directly (no space) by an optional unit.
/// Units are 1024-based and case-insensitive: `B`; `K`, `KB`, `KiB`; `M`, `MB`, `MiB`;
/// `G`, `GB`, `GiB`; `T`, `TB`, `TiB` (so `KB` and `KiB` both mean 1024 bytes).
/// Plain digits are bytes.
public enum ByteSize {
    /// The units understood by ``parse(_:)``, lowercased, with their multipliers.
    private static let units: [String: UInt64] = [
        "": 1, "b": 1,
        "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
        "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
        "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
        "t": 1 << 40, "tb": 1 << 40, "tib": 1 << 40,
    ]

    /// Parses a size such as `"32MB"`, `"512KB"`, `"64MiB"`, `"100B"` or `"4096"`.
    ///
    /// Returns `nil` for an empty string, a sign, a fraction, spaces, an unknown unit, or a
    /// value that does not fit in `UInt64`.
    public static func parse(_ text: String) -> UInt64? {
        var value: UInt64 = 0
        var digitCount = 0
        var rest = Substring.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if rest.isEmpty, scalar.value >= 0x30, scalar.value <= 0x39 {
                let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times10.addingReportingOverflow(UInt64(scalar.value - 0x30))
                if overflow1 || overflow2 { return nil }
                value = sum
                digitCount += 1
            } else {
                rest.append(scalar)
            }
        }
        guard digitCount > 0, let multiplier = units[String(rest).lowercased()] else {
            return nil
        }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }

    /// Formats a byte count with the largest unit that divides it exactly, such as `"64MB"`,
    /// `"1536KB"` or `"100B"`; ``parse(_:)`` reads the result back to the same value.
    public static func format(_ bytes: UInt64) -> String {
        let steps: [(UInt64, String)] = [(1 << 40, "TB"), (1 << 30, "GB"), (1 << 20, "MB"), (1 << 10, "KB")]
        if bytes > 0 {
            for (multiplier, unit) in steps where bytes % multiplier == 0 {
                return "\(bytes / multiplier)\(unit)"
            }
        }
        return "\(bytes)B"
    }
}
