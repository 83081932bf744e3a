/// Places the arguments of a function entry (``ProgramEntry/function(_:)``) in its guest's
/// memory: C strings and the argv array, in pages grown at the end of the memory so that nothing
/// the guest owns is overwritten.
enum EntryArguments {
    private static let pageSize = 65_536

    /// Writes `arguments` into `instance`'s exported memory and returns the guest address of the
    /// argv array (`argc` pointers, then a null one). Throws `ENOMEM` when the memory cannot
    /// grow, `ENOEXEC` when the program exports no non-shared wasm32 memory.
    static func place(_ arguments: [String], in instance: any EngineInstance, facts: ModuleFacts) throws(Errno) -> UInt32 {
        guard facts.exportsMemory, let memory = instance.memory else {
            throw Errno.noexec.with(reason: "a function entry needs the program to export its memory")
        }
        guard facts.sharedMemory == nil, facts.definedMemory?.isMemory64 == false else {
            throw Errno.noexec.with(reason: "a function entry needs a non-shared wasm32 memory")
        }
        let strings = arguments.map { Array($0.utf8) + [0] }
        let stringBytes = strings.reduce(0) { $0 + $1.count }
        let arrayBytes = (strings.count + 1) * 4
        let pages = (stringBytes + arrayBytes + pageSize - 1) / pageSize
        guard pages <= 65_536, let oldPages = instance.growMemory(pages: UInt32(pages)) else {
            throw Errno.nomem.with(reason: "cannot grow the memory by \(pages) page(s) for the arguments")
        }
        let base = UInt64(oldPages) * UInt64(pageSize)
        guard base + UInt64(stringBytes + arrayBytes) <= UInt64(UInt32.max) else {
            throw Errno.nomem.with(reason: "no room for the arguments below 4 GiB")
        }
        let arrayAddress = UInt32(base)
        var stringAddress = arrayAddress + UInt32(arrayBytes)
        for (index, string) in strings.enumerated() {
            try memory.writeBytes(string, at: stringAddress)
            try memory.storeU32(stringAddress, at: arrayAddress + UInt32(index * 4))
            stringAddress += UInt32(string.count)
        }
        try memory.storeU32(0, at: arrayAddress + UInt32(strings.count * 4))
        return arrayAddress
    }
}
