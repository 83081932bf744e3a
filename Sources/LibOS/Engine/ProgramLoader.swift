@_spi(Fuzzing) import WasmKit
import WasmParser

/// Reads a guest program from the VFS, parses it once (through the ``ModuleCache``) and checks
/// that it is a WASI command whose imports the kernel provides.
struct ProgramLoader {
    let vfs: VirtualFileSystem
    /// The most linear memory one process may have (`default_heap_size`).
    let memoryCeiling: Int
    /// Whether to add the interrupt checks (always, except in the test of the fuel backstop).
    var instruments = true

    func load(path: String, inode: any Inode, entry: ProgramEntry = .command) throws(Errno) -> LoadedProgram {
        let stat = try inode.stat()
        guard stat.type == .regularFile else { throw Errno.acces.with(reason: "\(path) is not a regular file") }
        var key: String?
        if let host = inode as? HostInode {
            key = "\(host.fs.hostPath)/\(host.components.joined(separator: "/"))|\(stat.inode)|\(stat.size)|\(stat.modificationTime)|\(instruments)"
        }
        let module = try ModuleCache.shared.module(for: key) { () throws(Errno) -> Module in
            let bytes = try readAll(inode, path: path)
            if bytes.count < 8 || bytes[0..<4] != [0x00, 0x61, 0x73, 0x6d] {
                throw Errno.noexec.with(reason: "\(path) is not a WebAssembly module")
            }
            // The original is validated before it is instrumented: afterwards an index that names
            // the interrupt flag would be valid.
            let original: Module
            do {
                original = try parseWasm(bytes: bytes, features: WasmKitRunner.features)
            } catch {
                throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
            }
            try checkImports(original, path: path)
            try validate(original, path: path)
            if !instruments { return original }
            do {
                return try parseWasm(bytes: try InterruptInstrumentation.instrument(bytes), features: WasmKitRunner.features)
            } catch {
                throw Errno.noexec.with(reason: "\(path) cannot be instrumented: \(error)")
            }
        }
        guard module.exports.contains(where: { $0.name == entry.exportName }) else {
            if entry == .command { throw Errno.noexec.with(reason: "\(path) has no _start export: not a WASI command") }
            throw Errno.noexec.with(reason: "\(path) has no \(entry.exportName) export")
        }
        return LoadedProgram(module: module, path: path)
    }

    private func readAll(_ inode: any Inode, path: String) throws(Errno) -> [UInt8] {
        let description = try inode.open(OpenMode(read: true, write: false))
        defer { description.close() }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count: Int
            do {
                count = try chunk.withUnsafeMutableBytes { buffer in try description.read(into: buffer) }
            } catch {
                throw (error as? Errno) ?? .io
            }
            if count == 0 { break }
            bytes += chunk[..<count]
            if bytes.count > 1 << 30 { throw Errno.fbig.with(reason: "\(path) is larger than 1 GiB") }
        }
        return bytes
    }

    /// Validates every function body once, when the program is first loaded: WasmKit parses
    /// bodies lazily, so the module is instantiated once with eager compilation, no start
    /// function, and imports that are never called.
    func validate(_ module: Module, path: String) throws(Errno) {
        var copy = module
        copy.dropStartFunction()
        let engine = Engine(configuration: EngineConfiguration(compilationMode: .eager, features: WasmKitRunner.features))
        let store = Store(engine: engine)
        let limiter = ValidationLimiter(ceiling: memoryCeiling)
        store.resourceLimiter = limiter
        var imports = Imports()
        do {
            for entry in module.imports {
                if case .memory(let type) = entry.descriptor {
                    let shared = try SharedMemory(engine: engine, type: type, resourceLimiter: limiter)
                    imports.define(module: entry.module, name: entry.name, Memory(store: store, sharedMemory: shared))
                    continue
                }
                guard let syscall = SyscallTable.syscall(module: entry.module, name: entry.name) else { continue }
                let parameters = syscall.wasmParameters
                let function = Function(store: store, parameters: parameters, results: syscall.returnsValue ? [.i32] : []) { _, _ in
                    throw Errno.nosys
                }
                imports.define(module: entry.module, name: entry.name, function)
            }
            _ = try copy.instantiate(store: store, imports: imports)
        } catch {
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
        }
    }

    /// Every import must be a syscall the kernel provides, or one shared memory (a
    /// `wasm32-wasi-threads` program). Signatures are checked when the program is instantiated.
    private func checkImports(_ module: Module, path: String) throws(Errno) {
        var memories = 0
        for entry in module.imports {
            let name = "\(entry.module).\(entry.name)"
            switch entry.descriptor {
            case .memory(let type):
                guard type.shared, !type.isMemory64, memories == 0 else {
                    throw Errno.noexec.with(reason: "\(path) imports memory \(name): only one shared wasm32 memory may be imported (wasm32-wasi-threads)")
                }
                memories += 1
            case .function:
                guard SyscallTable.syscall(module: entry.module, name: entry.name) != nil else {
                    throw Errno.noexec.with(reason: "\(path) imports \(name), which Cloister does not provide")
                }
            default:
                throw Errno.noexec.with(reason: "\(path) imports \(name), which Cloister does not provide")
            }
        }
    }
}

/// Keeps the one-time validation instance within the process memory ceiling, so a module that
/// declares a huge initial memory is refused before any of it is allocated.
private final class ValidationLimiter: ResourceLimiter, @unchecked Sendable {
    let ceiling: Int
    private(set) var refusal: String?
    init(ceiling: Int) { self.ceiling = ceiling }

    func limitMemoryGrowth(to desired: Int) throws -> Bool {
        if desired > ceiling {
            refusal = "initial linear memory of \(desired) bytes is over the process limit of \(ceiling) bytes"
            return false
        }
        return true
    }

    func limitTableGrowth(to desired: Int) throws -> Bool { desired <= 1 << 20 }
}
