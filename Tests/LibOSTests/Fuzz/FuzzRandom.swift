/// The fuzzer's random source: SplitMix64, so a seed replays the same choices.
struct FuzzRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// True with probability `p`.
    mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    mutating func below(_ bound: Int) -> Int { bound <= 1 ? 0 : Int(next() % UInt64(bound)) }

    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }

    mutating func u32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }

    /// A 64-bit value from the edges where arithmetic breaks, or anywhere.
    mutating func interesting64() -> UInt64 {
        let edges: [UInt64] = Self.edges64
        let index = below(edges.count + 1)
        return index < edges.count ? edges[index] : next()
    }

    private static let edges64: [UInt64] = {
        var values: [UInt64] = [0, 1, 2, 7, 4096, 65_536, 1 << 31, (1 << 31) - 1, 1 << 32, (1 << 32) - 1, 1 << 30, (1 << 30) + 1]
        values += [UInt64(Int64.max), UInt64(Int64.max) + 1, UInt64.max, UInt64.max - 1, UInt64(bitPattern: -4096)]
        // Durations: one second, 24.9 and 30 days (the Int32-millisecond edge), 585 years.
        values += [1_000_000_000, 2_147_483_648_000_000, 2_592_000_000_000_000, 18_446_744_073_709_551_000]
        // Times: now-ish (2025), year 2554 (UInt64 nanoseconds end), year 2262 (Int64 end).
        values += [1_750_000_000_000_000_000, 18_446_744_073_000_000_000, 9_223_372_036_000_000_000]
        return values
    }()

    /// A 32-bit value from the edges, or anywhere.
    mutating func interesting32() -> UInt32 {
        let edges: [UInt32] = [0, 1, 2, 3, 8, 255, 256, 4095, 4096, 4097, 65_535, 65_536, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF, 0xFFFF_FFF8]
        let index = below(edges.count + 1)
        return index < edges.count ? edges[index] : u32()
    }
}
