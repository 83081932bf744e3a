extension CloisterModule {
    /// `pipe(fds_out)`: creates a pipe; writes its read end then its write end (two `int32_t`).
    /// Errors: `EMFILE`, `EFAULT`, `ENOMEM` (the buffer would pass `user_space_size`).
    static func pipe(_ c: SyscallContext, _ a: SyscallArguments) throws(Errno) {
        let output = a.u32(0)
        try c.memory.check(output, 8)
        let (readEnd, writeEnd) = try Pipe.make(budget: c.kernel.memoryBudget)
        let readEntry = FileTable.Entry(
            description: readEnd, rightsBase: .stream, rightsInheriting: [], flags: [], isReadable: true, isWritable: false)
        let writeEntry = FileTable.Entry(
            description: writeEnd, rightsBase: .stream, rightsInheriting: [], flags: [], isReadable: false, isWritable: true)
        let readFD: UInt32
        do {
            readFD = try c.files.insert(readEntry)
        } catch {
            readEntry.file.release()
            writeEntry.file.release()
            throw error
        }
        let writeFD: UInt32
        do {
            writeFD = try c.files.insert(writeEntry)
        } catch {
            try? c.files.close(readFD)
            writeEntry.file.release()
            throw error
        }
        try c.memory.storeU32(readFD, at: output)
        try c.memory.storeU32(writeFD, at: output + 4)
    }
}
