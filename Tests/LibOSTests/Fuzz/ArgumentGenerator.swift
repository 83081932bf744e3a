import CCloisterABI
@testable import LibOS

/// Builds one syscall's arguments from its ``ArgumentKind``s: plants the structures the
/// arguments point at (paths, iovecs, poll subscriptions, spawn arrays) in the guest memory, and
/// mixes in what must be refused (pointers past the end, huge lengths, durations and offsets).
struct ArgumentGenerator {
    let memory: GuardedMemory
    var random: FuzzRandom
    /// Descriptors recent calls returned; `.fd` picks among them often.
    var recentFDs: [UInt32] = []
    /// The calling process's id, for `.pid`.
    let pid: Int32

    /// Names the guest's paths are made of: what the fuzz instance holds, and what breaks walkers.
    static let names = [
        "a", "b", "d", "f", "l", "x", "fifo", "dated", "loop", "hello.wasm", "stdin_echo.wasm", "null", "zero", "urandom",
        "stdin", "stdout", "tmp", "data", "secure", "bin", "dev", "inputs", "outputs", "in.txt", ".", "..", "",
    ]
    /// Durations from a second to centuries, about the Int32-millisecond edge (24.86 days) and past it.
    static let durations: [UInt64] = [1_000_000_000, 60_000_000_000, 2_147_483_647_000_000, 2_147_483_648_000_000, 2_592_000_000_000_000, 1 << 62]
    static let programs = ["/bin/hello.wasm", "/bin/exit_code.wasm", "/bin/stdin_echo.wasm", "/bin/nope.wasm", "/data/f", "bin/hello.wasm", ""]

    // MARK: Values

    mutating func fd() -> UInt32 {
        switch random.below(10) {
        case 0, 1: return UInt32(random.below(3))
        case 2, 3, 4: return UInt32(3 + random.below(8))
        case 5, 6: return recentFDs.isEmpty ? UInt32(11 + random.below(6)) : random.pick(recentFDs)
        case 7: return UInt32(11 + random.below(20))
        case 8: return random.pick([1023, 1024, 4096, 0x7FFF_FFFF, 0xFFFF_FFFF])
        default: return random.interesting32()
        }
    }

    /// An address for `size` bytes: mostly inside the memory, sometimes straddling or past its end.
    mutating func address(for size: UInt32) -> UInt32 {
        let total = UInt32(clamping: memory.byteCount)
        switch random.below(20) {
        case 0: return total &- size &+ 1  // one byte too far
        case 1: return total
        case 2: return random.pick([0xFFFF_FFFF, 0xFFFF_FFF0, 0x8000_0000, total &+ 4096])
        case 3: return random.u32()
        default:
            guard total >= size else { return 0 }
            var address = UInt32(random.below(Int(total - size) + 1))
            if random.chance(0.8) { address &= ~7 }
            return address
        }
    }

    mutating func length() -> UInt32 {
        switch random.below(10) {
        case 0: return 0
        case 1, 2, 3: return UInt32(1 + random.below(64))
        case 4, 5, 6: return UInt32(1 + random.below(4096))
        case 7: return UInt32(clamping: memory.byteCount) / UInt32(1 + random.below(4))
        default: return random.interesting32()
        }
    }

    /// Plants `bytes` at a fitting address (straddling the end when they cannot fit); returns it.
    mutating func place(_ bytes: [UInt8]) -> UInt32 {
        let total = memory.byteCount
        var address: UInt32 = 0
        if total >= bytes.count {
            address = UInt32(random.below(total - bytes.count + 1))
            if random.chance(0.7) { address &= ~7 }
        } else if total > 0 {
            address = UInt32(random.below(total))
        }
        memory.plant(bytes, at: address)
        return address
    }

    mutating func pathBytes() -> [UInt8] {
        switch random.below(40) {
        case 0: return Array(repeating: UInt8(ascii: "a"), count: 4096 + random.below(3))
        case 1: return Array("a\u{0}b".utf8)
        case 2: return [0x66, 0xFF, 0xFE]
        case 3: return Array("/".utf8)
        default:
            var parts: [String] = []
            for _ in 0...random.below(3) { parts.append(random.pick(Self.names)) }
            var text = parts.joined(separator: "/")
            if random.chance(0.1) { text += "/" }
            if random.chance(0.04) { text = "/" + text }
            return Array(text.utf8)
        }
    }

    mutating func value64() -> UInt64 {
        switch random.below(4) {
        case 0: return UInt64(random.below(5_000_000))  // small offsets, sizes and short durations
        case 1: return UInt64(random.below(100))
        default: return random.interesting64()
        }
    }

    mutating func signal() -> UInt32 {
        // Mostly signals that are ignored by default, so the process lives on.
        random.chance(0.8) ? random.pick([0, 17, 18, 23, 28]) : random.pick([1, 2, 6, 9, 13, 15, 19, 24, 31, 32, 64, 255, 0xFFFF_FFFF])
    }

    mutating func pidValue() -> UInt32 {
        UInt32(bitPattern: random.pick([-1, 0, -2, pid, pid + 1, pid + 2, 1, Int32.max, Int32.min, Int32(bitPattern: random.u32())]))
    }

    // MARK: Structures

    mutating func iovecs() -> (UInt32, UInt32) {
        let count = random.chance(0.9) ? UInt32(random.below(5)) : random.pick([1024, 1025, 0xFFFF_FFFF, random.u32()])
        var bytes: [UInt8] = []
        for _ in 0..<min(count, 64) {
            let length = random.chance(0.85) ? UInt32(random.below(600)) : length()
            let base = address(for: min(length, UInt32(clamping: memory.byteCount)))
            bytes += withUnsafeBytes(of: base.littleEndian, Array.init) + withUnsafeBytes(of: length.littleEndian, Array.init)
        }
        return (random.chance(0.9) ? place(bytes) : address(for: count &* 8), count)
    }

    mutating func subscriptions() -> (UInt32, UInt32, UInt32) {
        let count = random.chance(0.9) ? UInt32(1 + random.below(4)) : random.pick([0, 4096, 4097, 0xFFFF_FFFF])
        var bytes: [UInt8] = []
        for _ in 0..<min(count, 8) {
            var record = [UInt8](repeating: 0, count: 48)
            let tag: UInt8 = random.chance(0.95) ? UInt8(random.below(3)) : UInt8(truncatingIfNeeded: random.next())
            let userdata = random.next()
            record.withUnsafeMutableBytes { b in
                b.storeBytes(of: userdata, toByteOffset: 0, as: UInt64.self)
                b.storeBytes(of: tag, toByteOffset: 8, as: UInt8.self)
            }
            if tag == 0 {
                let clock: UInt32 = random.chance(0.8) ? UInt32(random.below(2)) : random.chance(0.8) ? UInt32(random.below(4)) : random.u32()
                let timeout: UInt64
                switch random.below(10) {
                case 0, 1, 2, 3: timeout = UInt64(random.below(3_000_000))
                case 4, 5, 6: timeout = random.pick(Self.durations)
                default: timeout = value64()
                }
                let flags: UInt16 = random.chance(0.8) ? UInt16(random.below(2)) : UInt16(truncatingIfNeeded: random.next())
                record.withUnsafeMutableBytes { b in
                    b.storeBytes(of: clock, toByteOffset: 16, as: UInt32.self)
                    b.storeBytes(of: timeout, toByteOffset: 24, as: UInt64.self)
                    b.storeBytes(of: flags, toByteOffset: 40, as: UInt16.self)
                }
            } else {
                // Mostly the standard streams, which the fuzzer leaves ready or not.
                let descriptor = random.chance(0.6) ? UInt32(random.below(3)) : fd()
                record.withUnsafeMutableBytes { b in b.storeBytes(of: descriptor, toByteOffset: 16, as: UInt32.self) }
            }
            bytes += record
        }
        let input = random.chance(0.9) ? place(bytes) : address(for: count &* 48)
        let output = address(for: count &* 32)
        return (input, output, count)
    }

    /// A C string planted in memory; its address.
    mutating func cString() -> UInt32 {
        if random.chance(0.05) { return address(for: 1) }
        return place(pathBytes() + [0])
    }

    mutating func stringArray() -> (UInt32, UInt32) {
        let count = random.chance(0.9) ? UInt32(random.below(4)) : random.pick([4096, 4097, 0xFFFF_FFFF])
        var bytes: [UInt8] = []
        for _ in 0..<min(count, 8) {
            let pointer = random.chance(0.9) ? cString() : address(for: 1)
            bytes += withUnsafeBytes(of: pointer.littleEndian, Array.init)
        }
        return (random.chance(0.9) ? place(bytes) : address(for: count &* 4), count)
    }

    mutating func fileActions() -> (UInt32, UInt32) {
        let count = random.chance(0.9) ? UInt32(random.below(4)) : random.pick([256, 257, 0xFFFF_FFFF])
        let size = MemoryLayout<cloister_spawn_file_action>.size
        var bytes: [UInt8] = []
        for _ in 0..<min(count, 8) {
            let path = pathBytes()
            let absolute = random.chance(0.7) ? Array("/".utf8) + path : path
            var action = cloister_spawn_file_action()
            action.kind = random.chance(0.9) ? UInt32(1 + random.below(3)) : random.u32()
            action.fd = Int32(bitPattern: random.chance(0.8) ? UInt32(random.below(12)) : fd())
            action.new_fd = Int32(bitPattern: random.chance(0.8) ? UInt32(random.below(12)) : fd())
            action.path_ptr = random.chance(0.9) ? place(absolute) : address(for: 8)
            action.path_len = random.chance(0.9) ? UInt32(absolute.count) : length()
            action.oflags = random.pick([0x0400_0000, 0x1000_0000, 0x1400_0000, 0x1000_1000, 0x1000_9000, 0x0400_2000, 0x1000_0001, random.u32()])
            bytes += withUnsafeBytes(of: action, Array.init)
        }
        return (random.chance(0.9) ? place(bytes) : address(for: count &* UInt32(size)), count)
    }

    // MARK: Arguments

    /// The arguments for `kinds`, in order.
    mutating func arguments(_ kinds: [ArgumentKind]) -> SyscallArguments {
        var values = SyscallArguments()
        for kind in kinds {
            switch kind {
            case .fd: values.append(UInt64(fd()))
            case .out(let size): values.append(UInt64(address(for: size)))
            case .path:
                if random.chance(0.05) {
                    values.append(UInt64(address(for: 8)))
                    values.append(UInt64(length()))
                } else {
                    let bytes = pathBytes()
                    values.append(UInt64(place(bytes)))
                    values.append(UInt64(bytes.count))
                }
            case .cString: values.append(UInt64(cString()))
            case .buffer, .lengthThenBuffer:
                let size = length()
                let pointer = address(for: size)
                if case .buffer = kind {
                    values.append(UInt64(pointer))
                    values.append(UInt64(size))
                } else {
                    values.append(UInt64(size))
                    values.append(UInt64(pointer))
                }
            case .iovecs:
                let (pointer, count) = iovecs()
                values.append(UInt64(pointer))
                values.append(UInt64(count))
            case .value64: values.append(value64())
            case .rights: values.append(random.chance(0.6) ? (1 << 30) - 1 : random.chance(0.5) ? random.next() & ((1 << 30) - 1) : random.next())
            case .flags(let mask): values.append(UInt64(random.chance(0.9) ? random.u32() & mask : random.interesting32()))
            case .choice(let bound): values.append(UInt64(random.chance(0.9) ? UInt32(random.below(Int(bound))) : random.interesting32()))
            case .clock: values.append(UInt64(random.chance(0.9) ? UInt32(random.below(4)) : random.interesting32()))
            case .signal: values.append(UInt64(signal()))
            case .pid: values.append(UInt64(pidValue()))
            case .subscriptions:
                let (input, output, count) = subscriptions()
                values.append(UInt64(input))
                values.append(UInt64(output))
                values.append(UInt64(count))
            case .stringArray:
                let (pointer, count) = stringArray()
                values.append(UInt64(pointer))
                values.append(UInt64(count))
            case .fileActions:
                let (pointer, count) = fileActions()
                values.append(UInt64(pointer))
                values.append(UInt64(count))
            case .any32: values.append(UInt64(random.interesting32()))
            }
        }
        return values
    }

    /// `cloister.spawn`'s program path: a real program often, so children really run.
    mutating func programPath() -> [UInt8] { Array(random.pick(Self.programs).utf8) }
}
