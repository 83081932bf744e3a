@_spi(Fuzzing) import WasmKit

/// Places the arguments of a function entry (``ProgramEntry/function(_:)``) in its guest's
/// memory: C strings and the argv array, in pages grown at the end of the memory so that nothing
/// the guest owns is overwritten.
///
/// WasmKit has no host-side `memory.grow`, so the growth runs in a tiny kernel-owned module that
/// imports the guest's memory into the same store.
enum EntryArguments {
    /// `(module (import "env" "memory" (memory 0))
    ///   (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))`
    private static let growModule: [UInt8] = [
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,
        0x02, 0x0f, 0x01, 0x03, 0x65, 0x6e, 0x76, 0x06, 0x6d, 0x65, 0x6d, 0x6f, 0x72, 0x79, 0x02, 0x00, 0x00,
        0x03, 0x02, 0x01, 0x00,
        0x07, 0x08, 0x01, 0x04, 0x67, 0x72, 0x6f, 0x77, 0x00, 0x00,
        0x0a, 0x08, 0x01, 0x06, 0x00, 0x20, 0x00, 0x40, 0x00, 0x0b,
    ]

    private static let pageSize = 65_536

    /// Writes `arguments` into `memory` (the guest's exported memory, through `userMemory`) and
    /// returns the guest address of the argv array (`argc` pointers, then a null one).
    /// Throws `ENOMEM` when the memory cannot grow, `ENOEXEC` when the program exports no memory.
    static func place(_ arguments: [String], memory: Memory?, userMemory: any UserMemory, store: Store) throws(Errno) -> UInt32 {
        guard let memory else { throw Errno.noexec.with(reason: "a function entry needs the program to export its memory") }
        guard !memory.type.shared, !memory.type.isMemory64 else {
            throw Errno.noexec.with(reason: "a function entry needs a non-shared wasm32 memory")
        }
        let strings = arguments.map { Array($0.utf8) + [0] }
        let stringBytes = strings.reduce(0) { $0 + $1.count }
        let arrayBytes = (strings.count + 1) * 4
        let pages = (stringBytes + arrayBytes + pageSize - 1) / pageSize
        let oldPages: UInt32
        do {
            var imports = Imports()
            imports.define(module: "env", name: "memory", memory)
            let grower = try parseWasm(bytes: growModule).instantiate(store: store, imports: imports)
            guard let grow = grower.exports[function: "grow"], case .i32(let result) = try grow([.i32(UInt32(pages))]).first else {
                throw Errno.noexec
            }
            oldPages = result
        } catch {
            throw Errno.nomem.with(reason: "cannot place the arguments: \(error)")
        }
        guard oldPages != UInt32.max else {
            throw Errno.nomem.with(reason: "cannot grow the memory by \(pages) page(s) for the arguments")
        }
        let base = UInt64(oldPages) * UInt64(pageSize)
        guard base + UInt64(stringBytes + arrayBytes) <= UInt64(UInt32.max) else {
            throw Errno.nomem.with(reason: "no room for the arguments below 4 GiB")
        }
        let arrayAddress = UInt32(base)
        var stringAddress = arrayAddress + UInt32(arrayBytes)
        for (index, string) in strings.enumerated() {
            try userMemory.writeBytes(string, at: stringAddress)
            try userMemory.storeU32(stringAddress, at: arrayAddress + UInt32(index * 4))
            stringAddress += UInt32(string.count)
        }
        try userMemory.storeU32(0, at: arrayAddress + UInt32(strings.count * 4))
        return arrayAddress
    }
}
