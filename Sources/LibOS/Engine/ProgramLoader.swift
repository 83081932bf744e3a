import Crypto

/// Reads a guest program from the VFS and makes it ready for the kernel's engine, once per
/// program (through the ``ProgramCache``): reads its facts (``ModuleFacts``: its imports must be
/// syscalls the kernel provides), has the engine validate the unmodified module, instruments it
/// (``InterruptInstrumentation``) and has the engine compile it.
struct ProgramLoader {
    let vfs: VirtualFileSystem
    let engine: any GuestEngine
    /// The most linear memory (and tables) one process may have (`default_heap_size`).
    let memoryCeiling: UInt64
    /// Where the engine keeps compiled code between runs, if anywhere.
    let cache: ArtifactCache?
    /// Whether to instrument programs (always, except in the test of WasmKit's fuel backstop).
    var instruments = true

    /// The largest program the loader reads.
    static let largestProgram = 1 << 30

    func load(path: String, inode: any Inode, entry: ProgramEntry = .command) throws(Errno) -> LoadedProgram {
        let stat = try inode.stat()
        guard stat.type == .regularFile else { throw Errno.acces.with(reason: "\(path) is not a regular file") }
        var identity: String?
        if let host = inode as? HostInode {
            identity = ProgramCache.identityKey(
                "\(host.fs.hostPath)/\(host.components.joined(separator: "/"))|\(stat.inode)|\(stat.size)|\(stat.modificationTime)",
                engine: engine.kind, instrumented: instruments)
        }
        let programs = ProgramCache.shared
        var found = identity.flatMap(programs.entry(for:))
        // Compiled in an earlier process: its index says which artifact, without reading the file.
        if found == nil, instruments, let identity, let (digest, facts) = cache?.index(identity),
            let module = engine.cachedModule(digest: digest, facts: facts, path: path, cache: cache)
        {
            let entry = ProgramCache.Entry(facts: facts, module: module)
            programs.store(entry, under: [identity, ProgramCache.contentKey(digest: digest, engine: engine.kind, instrumented: true)], compiled: false)
            found = entry
        }
        if found == nil {
            let bytes = try readAll(inode, path: path, size: stat.size)
            if bytes.count < 8 || bytes[0..<4] != [0x00, 0x61, 0x73, 0x6d] {
                throw Errno.noexec.with(reason: "\(path) is not a WebAssembly module")
            }
            let digest = Array(SHA256.hash(data: bytes))
            let contentKey = ProgramCache.contentKey(digest: digest, engine: engine.kind, instrumented: instruments)
            if let byContent = programs.entry(for: contentKey) {
                found = byContent
                if let identity { programs.store(byContent, under: [identity], compiled: false) }
            } else {
                let compiled = try prepare(bytes, digest: digest, path: path)
                programs.store(compiled, under: [contentKey] + (identity.map { [$0] } ?? []), compiled: true)
                if instruments, let identity { cache?.storeIndex(identity, digest: digest, facts: compiled.facts) }
                found = compiled
            }
        }
        guard let found else { throw Errno.io }
        let program = LoadedProgram(path: path, facts: found.facts, module: found.module)
        try check(program, entry: entry)
        return program
    }

    /// Checks, validates, instruments and compiles a program's bytes — or finds them compiled in
    /// the engine's artifact cache.
    private func prepare(_ bytes: [UInt8], digest: [UInt8], path: String) throws(Errno) -> ProgramCache.Entry {
        let facts = try ModuleFacts(bytes, path: path)
        if instruments, let module = engine.cachedModule(digest: digest, facts: facts, path: path, cache: cache) {
            return ProgramCache.Entry(facts: facts, module: module)
        }
        // The original is validated before it is instrumented: afterwards an index that names
        // what the instrumentation added would be valid.
        try engine.validate(bytes, path: path)
        var instrumented = bytes
        if instruments {
            do {
                instrumented = try InterruptInstrumentation.instrument(bytes, style: engine.instrumentation)
            } catch {
                throw Errno.noexec.with(reason: "\(path) cannot be instrumented: \(error)")
            }
        }
        let module = try engine.compile(instrumented, digest: digest, facts: facts, path: path, cache: instruments ? cache : nil)
        return ProgramCache.Entry(facts: facts, module: module)
    }

    /// What every load checks, cached or not: the entry exists, and the memory and tables the
    /// program starts with fit its process's limit (refused before anything is allocated).
    private func check(_ program: LoadedProgram, entry: ProgramEntry) throws(Errno) {
        let facts = program.facts
        let path = program.path
        guard facts.exportedFunctions[entry.exportName] != nil else {
            if entry == .command { throw Errno.noexec.with(reason: "\(path) has no _start export: not a WASI command") }
            throw Errno.noexec.with(reason: "\(path) has no \(entry.exportName) export")
        }
        let pages = facts.definedMemory?.min ?? facts.sharedMemory?.limits.min ?? 0
        let memory = pages > memoryCeiling / 65_536 ? UInt64.max : pages * 65_536
        let tables = facts.tableBytes(elementCost: engine.tableElementCost)
        if memory > memoryCeiling || tables > memoryCeiling - memory {
            let what = tables == 0 ? "initial linear memory of \(memory == .max ? "\(pages) pages" : "\(memory) bytes")"
                : "initial linear memory and tables of \(memory == .max || tables == .max ? "more" : "\(memory + tables)") bytes"
            throw Errno.nomem.with(reason: "\(path): out of memory: \(what) is over the process limit of \(memoryCeiling) bytes")
        }
    }

    /// Reads the whole program: into a buffer of the size the file says, growing it only if the
    /// file grows meanwhile.
    private func readAll(_ inode: any Inode, path: String, size: UInt64) throws(Errno) -> [UInt8] {
        guard size <= UInt64(Self.largestProgram) else { throw Errno.fbig.with(reason: "\(path) is larger than 1 GiB") }
        let description = try inode.open(OpenMode(read: true, write: false))
        defer { description.close() }
        var bytes = [UInt8](repeating: 0, count: Int(size) + 1)
        var count = 0
        while true {
            if count == bytes.count {
                guard bytes.count <= Self.largestProgram else { throw Errno.fbig.with(reason: "\(path) is larger than 1 GiB") }
                bytes += [UInt8](repeating: 0, count: max(1 << 16, bytes.count))
            }
            let read: Int
            do {
                read = try bytes.withUnsafeMutableBytes { buffer in try description.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[count...])) }
            } catch {
                throw (error as? Errno) ?? .io
            }
            if read == 0 { break }
            count += read
        }
        bytes.removeSubrange(count...)
        return bytes
    }
}
