#if canImport(Glibc)
import Glibc
#endif

extension WASIPreview1 {
    static func fdAdvise(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0), requiring: .fdAdvise)
        if a.u32(3) > 5 { throw .inval }
        if entry.description.fileType == .directory { throw .badf }
        if Int64(bitPattern: a[1]) < 0 || Int64(bitPattern: a[2]) < 0 { throw .inval }
    }

    static func fdAllocate(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0), requiring: .fdAllocate)
        try entry.description.allocate(offset: a[1], length: a[2])
    }

    static func fdClose(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.files.close(a.u32(0))
    }

    static func fdDatasync(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.files.get(a.u32(0), requiring: .fdDatasync).description.sync()
    }

    static func fdSync(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.files.get(a.u32(0), requiring: .fdSync).description.sync()
    }

    static func fdFdstatGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0))
        var flags = entry.flags
        if entry.description.isAppending { flags.insert(.append) } else { flags.remove(.append) }
        let type = entry.description.fileType
        // Only a directory hands rights down; for anything else wasmtime reports the inheriting
        // rights equal to the base rights, however the file was opened or linked.
        let inheriting = type == .directory ? entry.rightsInheriting : entry.rightsBase
        try c.memory.withBytes(at: a.u32(1), count: WASILayout.fdstatSize) { (b) throws(Errno) in
            b.initializeMemory(as: UInt8.self, repeating: 0)
            b.storeBytes(of: type.rawValue, toByteOffset: 0, as: UInt8.self)
            b.storeBytes(of: flags.rawValue.littleEndian, toByteOffset: 2, as: UInt16.self)
            b.storeBytes(of: entry.rightsBase.rawValue.littleEndian, toByteOffset: 8, as: UInt64.self)
            b.storeBytes(of: inheriting.rawValue.littleEndian, toByteOffset: 16, as: UInt64.self)
        }
    }

    static func fdFdstatSetFlags(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let flags = FDFlags(rawValue: UInt16(truncatingIfNeeded: a.u32(1)))
        if a.u32(1) > 0xffff || !FDFlags.all.isSuperset(of: flags) { throw .inval }
        try c.files.update(a.u32(0)) { (entry) throws(Errno) in
            if !entry.rightsBase.contains(.fdFdstatSetFlags) { throw .notcapable }
            entry.description.isAppending = flags.contains(.append)
            entry.flags = flags
        }
    }

    static func fdFdstatSetRights(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.files.update(a.u32(0)) { (entry) throws(Errno) in
            // Rights that make no sense for the file's type are ignored; the others can only be
            // dropped, never gained.
            let base = Rights(rawValue: a[1]).intersection(Rights.maximum(for: entry.description.fileType))
            let inheriting = Rights(rawValue: a[2]).intersection(entry.description.fileType == .directory ? Rights.inheritable : [])
            if !entry.rightsBase.isSuperset(of: base) || !entry.rightsInheriting.isSuperset(of: inheriting) {
                throw .notcapable
            }
            entry.rightsBase = base
            entry.rightsInheriting = inheriting
        }
    }

    static func fdFilestatGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(1), WASILayout.filestatSize)
        let entry = try c.files.get(a.u32(0), requiring: .fdFilestatGet)
        try WASILayout.store(try entry.description.stat(), at: a.u32(1), in: c.memory)
    }

    static func fdFilestatSetSize(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0), requiring: .fdFilestatSetSize)
        try entry.description.setSize(a[1])
    }

    static func fdFilestatSetTimes(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0), requiring: .fdFilestatSetTimes)
        let (access, modification) = try WASILayout.timeChanges(access: a[1], modification: a[2], flags: a.u32(3))
        try entry.description.setTimes(access: access, modification: modification)
    }

    static func fdPrestatGet(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let entry = try c.files.get(a.u32(0))
        guard let path = entry.preopenPath else { throw .badf }
        try c.memory.withBytes(at: a.u32(1), count: WASILayout.prestatSize) { (b) throws(Errno) in
            b.initializeMemory(as: UInt8.self, repeating: 0)
            b.storeBytes(of: UInt32(path.utf8.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        }
    }

    static func fdPrestatDirName(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(1), a.u32(2))
        let entry = try c.files.get(a.u32(0))
        guard let path = entry.preopenPath else { throw .notdir }
        if a.u32(2) < UInt32(path.utf8.count) { throw .nametoolong }
        try c.memory.writeBytes(Array(path.utf8), at: a.u32(1))
    }

    /// The most bytes one vectored call moves, as Linux's `MAX_RW_COUNT`: the count fits the
    /// guest's `u32` result (and a signed 32-bit one), and no single call runs unbounded however
    /// many buffers overlap.
    static let maximumTransfer = 0x7FFF_F000

    /// Reads into each guest buffer in turn until one comes back short (at most
    /// ``maximumTransfer`` bytes in all).
    private static func scatter(_ vectors: [(base: UInt32, length: UInt32)], _ memory: any UserMemory, _ read: (UnsafeMutableRawBufferPointer, Int) throws(Errno) -> Int) throws(Errno) -> UInt32 {
        var total = 0
        for vector in vectors where vector.length > 0 {
            let length = min(Int(vector.length), maximumTransfer - total)
            if length == 0 { break }
            let count = try memory.withBytes(at: vector.base, count: UInt32(length)) { (buffer) throws(Errno) in
                try read(buffer, total)
            }
            total += count
            if count < length { break }
        }
        return UInt32(total)
    }

    /// Writes each guest buffer in turn until one is taken short (at most ``maximumTransfer``
    /// bytes in all).
    private static func gather(_ vectors: [(base: UInt32, length: UInt32)], _ memory: any UserMemory, _ write: (UnsafeRawBufferPointer, Int) throws(Errno) -> Int) throws(Errno) -> UInt32 {
        var total = 0
        for vector in vectors where vector.length > 0 {
            let length = min(Int(vector.length), maximumTransfer - total)
            if length == 0 { break }
            let count = try memory.withBytes(at: vector.base, count: UInt32(length)) { (buffer) throws(Errno) in
                try write(UnsafeRawBufferPointer(buffer), total)
            }
            total += count
            if count < length { break }
        }
        return UInt32(total)
    }

    static func fdRead(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(3), 4)
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        let entry = try c.files.get(a.u32(0), forWriting: false)
        let description = entry.description
        let waits = !entry.flags.contains(.nonblock)
        let count = try scatter(vectors, c.memory) { (buffer, done) throws(Errno) in
            // Only the first buffer may wait (readv): once bytes are in, a stream or pipe gives
            // what it holds now, and an O_NONBLOCK descriptor never waits (EAGAIN).
            if done == 0 && waits { return try description.read(into: buffer) }
            do throws(Errno) {
                return try description.readNow(into: buffer)
            } catch where error == .again && done > 0 {
                return 0
            }
        }
        try c.memory.storeU32(count, at: a.u32(3))
    }

    static func fdPread(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(4), 4)
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        let entry = try c.files.get(a.u32(0), forWriting: false, alsoRequiring: .fdSeek)
        let offset = a[3]
        if offset > UInt64(Int64.max) { throw .inval }
        let description = entry.description
        let count = try scatter(vectors, c.memory) { (buffer, done) throws(Errno) in
            try description.pread(into: buffer, at: offset + UInt64(done))
        }
        try c.memory.storeU32(count, at: a.u32(4))
    }

    static func fdWrite(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(3), 4)
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        let description = try c.files.get(a.u32(0), forWriting: true).description
        let total = vectors.reduce(0) { $0 + Int($1.length) }
        let count: UInt32
        if vectors.count > 1, total <= Pipe.atomicWriteSize {
            // A small writev is one write, as POSIX makes it atomic on a pipe (printf's
            // buffer and its new text must not be read apart).
            var joined: [UInt8] = []
            for vector in vectors { joined += try c.memory.readBytes(vector.base, vector.length) }
            var result: Result<Int, Errno> = .success(0)
            joined.withUnsafeBytes { buffer in
                do throws(Errno) { result = .success(try description.write(buffer)) } catch { result = .failure(error) }
            }
            count = UInt32(try result.get())
        } else {
            count = try gather(vectors, c.memory) { (buffer, _) throws(Errno) in try description.write(buffer) }
        }
        try c.memory.storeU32(count, at: a.u32(3))
    }

    static func fdPwrite(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(4), 4)
        let vectors = try c.memory.readIOVecs(a.u32(1), a.u32(2))
        let entry = try c.files.get(a.u32(0), forWriting: true, alsoRequiring: .fdSeek)
        let offset = a[3]
        if offset > UInt64(Int64.max) { throw .inval }
        let description = entry.description
        let count = try gather(vectors, c.memory) { (buffer, done) throws(Errno) in
            try description.pwrite(buffer, at: offset + UInt64(done))
        }
        try c.memory.storeU32(count, at: a.u32(4))
    }

    static func fdReaddir(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let (buffer, length, cookie, usedPointer) = (a.u32(1), a.u32(2), a[3], a.u32(4))
        try c.memory.check(buffer, length)
        try c.memory.check(usedPointer, 4)
        let entry = try c.files.get(a.u32(0))
        guard entry.description.fileType == .directory, let directory = entry.description.inode else { throw .badf }
        if !entry.rightsBase.contains(.fdReaddir) { throw .notcapable }
        let entries = try directory.entries()
        // Entries go straight into the guest's buffer: the kernel allocates nothing in
        // proportion to a length the guest chose.
        let used = try c.memory.withBytes(at: buffer, count: length) { (output) throws(Errno) -> Int in
            var used = 0
            var index = cookie
            var header = [UInt8](repeating: 0, count: WASILayout.direntHeaderSize)
            while index < UInt64(entries.count), used < output.count {
                let item = entries[Int(index)]
                let name = Array(item.name.utf8)
                header.withUnsafeMutableBytes { b in
                    b.storeBytes(of: (index + 1).littleEndian, toByteOffset: 0, as: UInt64.self)
                    b.storeBytes(of: item.inode.littleEndian, toByteOffset: 8, as: UInt64.self)
                    b.storeBytes(of: UInt32(name.count).littleEndian, toByteOffset: 16, as: UInt32.self)
                    b.storeBytes(of: item.type.rawValue, toByteOffset: 20, as: UInt8.self)
                    b.storeBytes(of: UInt8(0), toByteOffset: 21, as: UInt8.self)
                }
                // A full buffer tells the guest to call again; the last entry may be cut short.
                for part in [header, name] where used < output.count && !part.isEmpty {
                    let count = min(part.count, output.count - used)
                    part.withUnsafeBytes { (output.baseAddress! + used).copyMemory(from: $0.baseAddress!, byteCount: count) }
                    used += count
                }
                index += 1
            }
            return used
        }
        try c.memory.storeU32(UInt32(used), at: usedPointer)
    }

    static func fdRenumber(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.files.renumber(a.u32(0), to: a.u32(1))
    }

    static func fdSeek(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(3), 8)
        guard let origin = SeekOrigin(rawValue: UInt8(truncatingIfNeeded: a.u32(2))), a.u32(2) <= 2 else { throw .inval }
        let offset = Int64(bitPattern: a[1])
        let rights: Rights = offset == 0 && origin == .current ? .fdTell : .fdSeek
        let entry = try c.files.get(a.u32(0))
        if !entry.rightsBase.contains(rights) && !entry.rightsBase.contains(.fdSeek) { throw .notcapable }
        let position = try entry.description.seek(offset, from: origin)
        try c.memory.storeU64(position, at: a.u32(3))
    }

    static func fdTell(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        try c.memory.check(a.u32(1), 8)
        let entry = try c.files.get(a.u32(0), requiring: .fdTell)
        try c.memory.storeU64(try entry.description.seek(0, from: .current), at: a.u32(1))
    }
}
