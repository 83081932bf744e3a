extension WASIPreview1 {
    /// Writes `strings` as a NUL-terminated list: pointers at `pointers`, bytes at `buffer`.
    private static func writeStringList(_ strings: [String], _ memory: any UserMemory, pointers: UInt32, buffer: UInt32) throws(Errno) {
        let total = strings.reduce(0) { $0 + $1.utf8.count + 1 }
        try memory.check(pointers, UInt32(strings.count * 4))
        try memory.check(buffer, UInt32(total))
        var offset = buffer
        for (index, string) in strings.enumerated() {
            try memory.storeU32(offset, at: pointers + UInt32(index * 4))
            try memory.writeBytes(Array(string.utf8) + [0], at: offset)
            offset += UInt32(string.utf8.count + 1)
        }
    }

    private static func writeSizes(_ strings: [String], _ memory: any UserMemory, count: UInt32, size: UInt32) throws(Errno) {
        try memory.check(count, 4)
        try memory.check(size, 4)
        try memory.storeU32(UInt32(strings.count), at: count)
        try memory.storeU32(UInt32(strings.reduce(0) { $0 + $1.utf8.count + 1 }), at: size)
    }

    static func argsGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try writeStringList(c.process.arguments, c.memory, pointers: a.u32(0), buffer: a.u32(1))
    }

    static func argsSizesGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try writeSizes(c.process.arguments, c.memory, count: a.u32(0), size: a.u32(1))
    }

    static func environGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try writeStringList(c.process.environment, c.memory, pointers: a.u32(0), buffer: a.u32(1))
    }

    static func environSizesGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try writeSizes(c.process.environment, c.memory, count: a.u32(0), size: a.u32(1))
    }
}
