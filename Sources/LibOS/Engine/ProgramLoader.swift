@_spi(Fuzzing) import WasmKit
import WasmParser

/// Reads a guest program from the VFS, parses it once (through the ``ModuleCache``) and checks
/// that it is a WASI command whose imports the kernel provides.
struct ProgramLoader {
    let vfs: VirtualFileSystem
    /// The most linear memory one process may have (`default_heap_size`).
    let memoryCeiling: Int

    func load(path: String, inode: any Inode) throws(Errno) -> LoadedProgram {
        let stat = try inode.stat()
        guard stat.type == .regularFile else { throw Errno.acces.with(reason: "\(path) is not a regular file") }
        var key: String?
        if let host = inode as? HostInode {
            key = "\(host.fs.hostPath)/\(host.components.joined(separator: "/"))|\(stat.inode)|\(stat.size)|\(stat.modificationTime)"
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
                original = try parseWasm(bytes: bytes)
            } catch {
                throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
            }
            try checkImports(original, path: path)
            try validate(original, path: path)
            do {
                return try parseWasm(bytes: try InterruptInstrumentation.instrument(bytes))
            } catch {
                throw Errno.noexec.with(reason: "\(path) cannot be instrumented: \(error)")
            }
        }
        guard module.exports.contains(where: { $0.name == "_start" }) else {
            throw Errno.noexec.with(reason: "\(path) has no _start export: not a WASI command")
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
    private func validate(_ module: Module, path: String) throws(Errno) {
        var copy = module
        copy.dropStartFunction()
        let store = Store(engine: Engine(configuration: EngineConfiguration(compilationMode: .eager)))
        let limiter = ValidationLimiter(ceiling: memoryCeiling)
        store.resourceLimiter = limiter
        var imports = Imports()
        for entry in module.imports {
            guard let syscall = WASIPreview1.syscalls[entry.name] else { continue }
            let parameters = syscall.wasmParameters
            let function = Function(store: store, parameters: parameters, results: syscall.returnsErrno ? [.i32] : []) { _, _ in
                throw Errno.nosys
            }
            imports.define(module: entry.module, name: entry.name, function)
        }
        do {
            _ = try copy.instantiate(store: store, imports: imports)
        } catch {
            if let refusal = limiter.refusal { throw Errno.nomem.with(reason: "\(path): \(refusal)") }
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
        }
    }

    /// Every import must be a syscall the kernel provides, with the right signature.
    private func checkImports(_ module: Module, path: String) throws(Errno) {
        for entry in module.imports {
            let name = "\(entry.module).\(entry.name)"
            guard entry.module == WASIPreview1.moduleName, let syscall = WASIPreview1.syscalls[entry.name] else {
                throw Errno.noexec.with(reason: "\(path) imports \(name), which Cloister does not provide")
            }
            guard case .function = entry.descriptor else {
                throw Errno.noexec.with(reason: "\(path) imports \(name) as a non-function")
            }
            _ = syscall
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
