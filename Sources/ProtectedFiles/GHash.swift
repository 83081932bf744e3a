/// GHASH, the universal hash of GCM (NIST SP 800-38D), over GF(2^128), with 4-bit tables
/// (Shoup's method). swift-crypto's AES-GCM is one-shot only, so whole-file aes-gcm streams
/// compute GHASH here and the keystream with AES-CTR.
struct GHash {
    private var table = [(hi: UInt64, lo: UInt64)](repeating: (0, 0), count: 16)
    private var hi: UInt64 = 0
    private var lo: UInt64 = 0
    private var partial = [UInt8]()
    /// bytes[(k * 256 + b) * 2 ..< +2]: (hi, lo) of the block with byte b at position k, times H.
    /// GHASH multiplication is linear, so X·H is the XOR of the 16 entries for X's bytes.
    private var byteTable = [UInt64](repeating: 0, count: 16 * 256 * 2)

    private static let reduction: [UInt64] = [
        0x0000, 0x1C20, 0x3840, 0x2460, 0x7080, 0x6CA0, 0x48C0, 0x54E0,
        0xE100, 0xFD20, 0xD940, 0xC560, 0x9180, 0x8DA0, 0xA9C0, 0xB5E0,
    ].map { $0 << 48 }

    /// `h`: the hash subkey, AES_K(0^128).
    init(h: [UInt8]) {
        var vh = GHash.load(h, 0), vl = GHash.load(h, 8)
        table[8] = (vh, vl)
        for i in [4, 2, 1] {
            let t: UInt64 = (vl & 1) == 1 ? 0xE100_0000_0000_0000 : 0
            vl = (vh << 63) | (vl >> 1)
            vh = (vh >> 1) ^ t
            table[i] = (vh, vl)
        }
        for i in [2, 4, 8] {
            for j in 1..<i {
                table[i + j] = (table[i].hi ^ table[j].hi, table[i].lo ^ table[j].lo)
            }
        }
        // Single bits with the 4-bit method, then every byte value by linearity.
        for k in 0..<16 {
            for bit in 0..<8 {
                let value = UInt64(1) << UInt64(bit)
                hi = k < 8 ? value << UInt64(56 - 8 * k) : 0
                lo = k < 8 ? 0 : value << UInt64(120 - 8 * k)
                multiply()
                let at = (k * 256 + (1 << bit)) * 2
                byteTable[at] = hi
                byteTable[at + 1] = lo
            }
            for b in 1..<256 where b & (b - 1) != 0 {
                let low = b & -b
                let at = (k * 256 + b) * 2, x = (k * 256 + (b & (b - 1))) * 2, y = (k * 256 + low) * 2
                byteTable[at] = byteTable[x] ^ byteTable[y]
                byteTable[at + 1] = byteTable[x + 1] ^ byteTable[y + 1]
            }
        }
        hi = 0
        lo = 0
    }

    /// Multiplies the state by H with the byte tables: 16 lookups, no reduction step.
    private mutating func multiplyFast() {
        let xh = hi, xl = lo
        (hi, lo) = byteTable.withUnsafeBufferPointer { t in
            var zh: UInt64 = 0, zl: UInt64 = 0
            for k in 0..<8 {
                let b = Int(truncatingIfNeeded: xh >> UInt64(56 - 8 * k)) & 0xff
                let at = (k * 256 + b) * 2
                zh ^= t[at]
                zl ^= t[at + 1]
            }
            for k in 8..<16 {
                let b = Int(truncatingIfNeeded: xl >> UInt64(120 - 8 * k)) & 0xff
                let at = (k * 256 + b) * 2
                zh ^= t[at]
                zl ^= t[at + 1]
            }
            return (zh, zl)
        }
    }

    private static func load(_ bytes: [UInt8], _ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for k in 0..<8 { v = v << 8 | UInt64(bytes[at + k]) }
        return v
    }

    /// Multiplies the state by H (OpenSSL's gcm_gmult_4bit, nibbles from the last byte down).
    private mutating func multiply() {
        let xh = hi, xl = lo
        @inline(__always) func byte(_ k: Int) -> Int {
            k < 8 ? Int(truncatingIfNeeded: xh >> UInt64(56 - 8 * k)) & 0xff : Int(truncatingIfNeeded: xl >> UInt64(120 - 8 * k)) & 0xff
        }
        (hi, lo) = table.withUnsafeBufferPointer { table in
            GHash.reduction.withUnsafeBufferPointer { reduction in
                var index = 15
                var nlo = byte(15) & 0xf
                var nhi = byte(15) >> 4
                var zh = table[nlo].hi, zl = table[nlo].lo
                while true {
                    var rem = Int(zl & 0xf)
                    zl = (zh << 60) | (zl >> 4)
                    zh = (zh >> 4) ^ reduction[rem]
                    zh ^= table[nhi].hi
                    zl ^= table[nhi].lo
                    index -= 1
                    if index < 0 { break }
                    nlo = byte(index) & 0xf
                    nhi = byte(index) >> 4
                    rem = Int(zl & 0xf)
                    zl = (zh << 60) | (zl >> 4)
                    zh = (zh >> 4) ^ reduction[rem]
                    zh ^= table[nlo].hi
                    zl ^= table[nlo].lo
                }
                return (zh, zl)
            }
        }
    }

    private mutating func absorbBlock(_ p: UnsafeRawBufferPointer) {
        hi ^= UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        lo ^= UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        multiplyFast()
    }

    /// Absorbs bytes; a trailing partial block waits for more bytes or `padToBlock`.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        var start = 0
        if !partial.isEmpty {
            let take = min(16 - partial.count, bytes.count)
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[0..<take]))
            start = take
            if partial.count == 16 {
                partial.withUnsafeBytes { absorbBlock($0) }
                partial.removeAll(keepingCapacity: true)
            }
        }
        while bytes.count - start >= 16 {
            absorbBlock(UnsafeRawBufferPointer(rebasing: bytes[start..<start + 16]))
            start += 16
        }
        if start < bytes.count {
            partial.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Zero-pads a pending partial block and absorbs it.
    mutating func padToBlock() {
        guard !partial.isEmpty else { return }
        partial.append(contentsOf: [UInt8](repeating: 0, count: 16 - partial.count))
        partial.withUnsafeBytes { absorbBlock($0) }
        partial.removeAll(keepingCapacity: true)
    }

    /// The current state as 16 bytes.
    var state: [UInt8] {
        var out = [UInt8](repeating: 0, count: 16)
        for k in 0..<8 {
            out[k] = UInt8(truncatingIfNeeded: hi >> (56 - 8 * UInt64(k)))
            out[8 + k] = UInt8(truncatingIfNeeded: lo >> (56 - 8 * UInt64(k)))
        }
        return out
    }
}
