/// SplitMix64: a small, fast generator with a fixed sequence for a given seed, so that training
/// with sampling gives the same model for the same data and arguments, on every platform. Public
/// for the tests and benchmarks that make reproducible data with it.
public struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` distinct numbers of `0..<n`, in increasing order (a partial Fisher–Yates shuffle).
    mutating func sample(_ count: Int, of n: Int) -> [Int] {
        var pool = Array(0..<n)
        for i in 0..<min(count, n) {
            let j = i + Int(next() % UInt64(n - i))
            pool.swapAt(i, j)
        }
        return pool.prefix(count).sorted()
    }
}
