import CLibOSHost

extension CloisterModule {
    /// The thread a sched call names: 0 is the caller; otherwise a thread id of the instance.
    /// The caller first applies an affinity another thread set for it.
    private static func thread(_ c: SyscallContext, _ tid: Int32) throws(Errno) -> GuestThread {
        c.thread.sched.applyIfChanged()
        if tid == 0 || tid == c.thread.tid { return c.thread }
        guard let thread = c.kernel.table.thread(tid) else { throw Errno.srch.with(reason: "no thread \(tid)") }
        return thread
    }

    /// `sched_getaffinity(tid, size, mask, size_out)`: writes the thread's CPU set (one bit per
    /// CPU, little-endian words) and its size in bytes, which is the host's CPUs rounded up to
    /// whole 64-bit words. Errors: `EINVAL` (`size` smaller than that), `EFAULT`, `ESRCH`.
    static func schedGetaffinity(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let target = try thread(c, Int32(bitPattern: a.u32(0)))
        let (size, mask, sizePointer) = (a.u32(1), a.u32(2), a.u32(3))
        if size < UInt32(CpuSet.byteCount) {
            throw Errno.inval.with(reason: "the mask buffer holds \(size) bytes; a CPU set takes \(CpuSet.byteCount)")
        }
        try c.memory.check(mask, UInt32(CpuSet.byteCount))
        try c.memory.check(sizePointer, 4)
        let words = target.sched.affinity.words
        try c.memory.withBytes(at: mask, count: UInt32(CpuSet.byteCount)) { bytes in
            for (index, word) in words.enumerated() { bytes.storeBytes(of: word.littleEndian, toByteOffset: index * 8, as: UInt64.self) }
        }
        try c.memory.storeU32(UInt32(CpuSet.byteCount), at: sizePointer)
    }

    /// `sched_setaffinity(tid, size, mask)`: restricts the thread to the CPUs of the mask; bits
    /// beyond the host's CPUs are ignored. Errors: `EINVAL` (no host CPU in the mask, or none
    /// the host allows), `EFAULT`, `ESRCH`.
    static func schedSetaffinity(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let target = try thread(c, Int32(bitPattern: a.u32(0)))
        let (size, mask) = (a.u32(1), a.u32(2))
        if size > 1 << 16 { throw Errno.inval.with(reason: "the mask is larger than 64 KiB") }
        let set = try c.memory.withBytes(at: mask, count: size) { CpuSet(guestBytes: UnsafeRawBufferPointer($0)) }
        try target.sched.setAffinity(set, fromOwnThread: target === c.thread)
    }

    /// `getcpu(cpu_out, node_out)`: the host CPU and NUMA node the calling thread runs on now.
    static func getcpu(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        c.thread.sched.applyIfChanged()
        try c.memory.check(a.u32(0), 4)
        try c.memory.check(a.u32(1), 4)
        var cpu: UInt32 = 0
        var node: UInt32 = 0
        guard cloister_host_getcpu(&cpu, &node) == 0 else { throw Errno.nosys.with(reason: "the host does not report its CPU") }
        try c.memory.storeU32(cpu, at: a.u32(0))
        try c.memory.storeU32(node, at: a.u32(1))
    }
}
