/// Byte layouts of WASI preview1 structures in a wasm32 guest's memory.
enum WASILayout {
    static let iovecSize: UInt32 = 8
    static let fdstatSize: UInt32 = 24
    static let filestatSize: UInt32 = 64
    static let prestatSize: UInt32 = 8
    static let direntHeaderSize = 24
    static let subscriptionSize: UInt32 = 48
    static let eventSize: UInt32 = 32
    /// `eventrwflags.fd_readwrite_hangup`: the peer of a readable or writable stream is gone.
    static let eventHangUp: UInt16 = 1

    /// Writes a `filestat` at `address`.
    static func store(_ stat: FileStat, at address: UInt32, in memory: any UserMemory) throws(Errno) {
        try memory.withBytes(at: address, count: filestatSize) { (b) throws(Errno) in
            b.initializeMemory(as: UInt8.self, repeating: 0)
            b.storeBytes(of: stat.device.littleEndian, toByteOffset: 0, as: UInt64.self)
            b.storeBytes(of: stat.inode.littleEndian, toByteOffset: 8, as: UInt64.self)
            b.storeBytes(of: stat.type.rawValue, toByteOffset: 16, as: UInt8.self)
            b.storeBytes(of: stat.linkCount.littleEndian, toByteOffset: 24, as: UInt64.self)
            b.storeBytes(of: stat.size.littleEndian, toByteOffset: 32, as: UInt64.self)
            b.storeBytes(of: stat.accessTime.littleEndian, toByteOffset: 40, as: UInt64.self)
            b.storeBytes(of: stat.modificationTime.littleEndian, toByteOffset: 48, as: UInt64.self)
            b.storeBytes(of: stat.changeTime.littleEndian, toByteOffset: 56, as: UInt64.self)
        }
    }

    /// Decodes WASI `fstflags` into two ``TimeChange``s; both "set" and "now" for one time is `EINVAL`.
    static func timeChanges(access: UInt64, modification: UInt64, flags: UInt32) throws(Errno) -> (TimeChange, TimeChange) {
        if flags & ~0xf != 0 { throw .inval }
        if flags & 0x1 != 0 && flags & 0x2 != 0 { throw .inval }
        if flags & 0x4 != 0 && flags & 0x8 != 0 { throw .inval }
        let accessChange: TimeChange = flags & 0x2 != 0 ? .now : (flags & 0x1 != 0 ? .set(access) : .keep)
        let modificationChange: TimeChange = flags & 0x8 != 0 ? .now : (flags & 0x4 != 0 ? .set(modification) : .keep)
        return (accessChange, modificationChange)
    }
}
