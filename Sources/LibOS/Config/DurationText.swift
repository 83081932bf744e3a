/// Durations as `Cloister.json` writes them: a number and a unit, such as `"10ms"`, `"30s"`,
/// `"1.5s"`, `"5m"` or `"1h"`.
public enum DurationText {
    private static let units: [(suffix: String, nanoseconds: Double)] = [
        ("ms", 1e6), ("us", 1e3), ("ns", 1), ("s", 1e9), ("m", 60e9), ("h", 3600e9),
    ]

    /// Nanoseconds, or nil when `text` is not a duration.
    public static func parse(_ text: String) -> UInt64? {
        for unit in units where text.hasSuffix(unit.suffix) {
            let number = text.dropLast(unit.suffix.count)
            guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
                let value = Double(number), value.isFinite, value * unit.nanoseconds < 1e18
            else { return nil }
            return UInt64((value * unit.nanoseconds).rounded())
        }
        return nil
    }

    /// The shortest readable form: `"250ms"`, `"30s"`, `"1.5s"`.
    public static func format(_ nanoseconds: UInt64) -> String {
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000)s" }
        if nanoseconds < 1_000_000_000, nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000)ms" }
        return "\(Double(nanoseconds) / 1e9)s"
    }
}
