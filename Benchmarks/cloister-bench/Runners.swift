import Foundation
import LibOS
import WasmKit
import WasmKitWASI

#if canImport(Glibc)
import Glibc
#endif

/// The environment every wasm variant sees (the LibOS gets it from `env.default`).
let guestEnvironment = ["HOME": "/root", "PATH": "/bin"]

/// Runs guests as LibOS processes of one instance.
///
/// The instance folder is a temporary one whose Cloister.json mounts `/` ramfs, `/bin` hostfs
/// onto the guest folder, `/data` hostfs onto `dataDirectory`, `/tmp` ramfs and `/dev` devfs;
/// `network`, when given, is its `network` object (the `net` section's loopback rules).
final class LibOSRunner {
    let kernel: Kernel
    let instanceDirectory: String
    let dataDirectory: String

    init(base: String, guests: String, engine: EngineKind?, name: String = "instance", network: String? = nil) throws {
        instanceDirectory = base + "/" + name
        dataDirectory = base + "/data-" + (name == "instance" ? "libos" : name)
        for directory in [instanceDirectory, dataDirectory] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let json = """
            {
              "resource_limits": { "user_space_size": "1GB", "max_num_of_processes": 16, "max_num_of_threads": 32 },
              "process": { "default_stack_size": "1MB", "default_heap_size": "512MB" },
              "entry_points": ["/bin"],
              "env": { "default": ["HOME=/root", "PATH=/bin"], "untrusted": [] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": \(jsonString(guests)) },
                { "target": "/data", "type": "hostfs", "source": \(jsonString(dataDirectory)) },
                { "target": "/tmp", "type": "ramfs" },
                { "target": "/dev", "type": "devfs" }
              ],
              \(network.map { "\"network\": \($0)," } ?? "")
              "metadata": { "debuggable": false }
            }

            """
        try json.write(toFile: instanceDirectory + "/" + InstanceConfig.fileName, atomically: true, encoding: .utf8)
        do {
            kernel = try Kernel(instanceDirectory: instanceDirectory, engine: engine)
        } catch {
            throw BenchError("cannot start the LibOS instance in \(instanceDirectory): \(error)")
        }
    }

    /// create + exec + exit of `/bin/<name>.wasm`, timed as a whole (the module cache makes
    /// every run after the first skip parsing).
    func run(_ name: String, arguments: [String], stdio: Kernel.StandardIO) throws -> Sample {
        let path = "/bin/\(name).wasm"
        let wall0 = wallNanoseconds()
        let cpu0 = threadCPUNanoseconds()
        let status: WaitStatus
        do {
            let pid = try kernel.createProcess(path: path, arguments: [name] + arguments, stdio: stdio)
            status = try kernel.exec(pid: pid)
        } catch {
            throw BenchError("LibOS: \(path): \(error)")
        }
        let cpu1 = threadCPUNanoseconds()
        let wall1 = wallNanoseconds()
        guard status.exitCode == 0 else { throw BenchError("LibOS: \(path) \(status)") }
        return Sample(wall: Double(wall1 - wall0) / 1e9, cpu: Double(cpu1 - cpu0) / 1e9)
    }
}

/// Runs guests under WasmKit's stock WASI bridge (`WASIBridgeToHost`), from modules parsed
/// once up front, so that only instantiation and execution are timed.
final class StockRunner {
    let guests: String
    let dataDirectory: String
    /// The engine's interpreter stack; nil is WasmKit's default (512 KiB).
    let stackSize: Int?
    private var modules: [String: Module] = [:]

    init(base: String, guests: String, stackSize: Int?) throws {
        self.guests = guests
        self.stackSize = stackSize
        dataDirectory = base + "/data-stock"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }

    /// Reads and parses `<name>.wasm`; `instrumented` first applies the LibOS's own rewrite
    /// (``InterruptInstrumentation``: a flag test at every function entry and loop head), to
    /// tell the cost of that rewrite from the cost of the LibOS's system-call layer.
    func parse(_ name: String, instrumented: Bool = false) throws -> Module {
        let path = "\(guests)/\(name).wasm"
        guard let data = FileManager.default.contents(atPath: path) else { throw BenchError("cannot read \(path)") }
        do {
            var bytes = [UInt8](data)
            if instrumented { bytes = try InterruptInstrumentation.instrument(bytes, style: .interruptFlag) }
            return try parseWasm(bytes: bytes)
        } catch {
            throw BenchError("cannot parse \(path): \(error)")
        }
    }

    func module(_ name: String, instrumented: Bool = false) throws -> Module {
        let key = instrumented ? name + "+interrupts" : name
        if let module = modules[key] { return module }
        let module = try parse(name, instrumented: instrumented)
        modules[key] = module
        return module
    }

    /// Bridge + Engine + Store + instantiate + `_start` of an already parsed module, timed as a whole.
    func run(_ name: String, module: Module? = nil, instrumented: Bool = false, arguments: [String], stdio: Kernel.StandardIO) throws -> Sample {
        let module = try module ?? self.module(name, instrumented: instrumented)
        let wall0 = wallNanoseconds()
        let cpu0 = threadCPUNanoseconds()
        let code: UInt32
        do {
            let wasi = try WASIBridgeToHost(
                args: [name] + arguments, environment: guestEnvironment,
                preopens: [.init(guestPath: "/data", hostPath: dataDirectory)],
                stdin: stdio.input, stdout: stdio.output, stderr: stdio.error)
            code = try wasi.runAndClose { wasi in
                let engine = Engine(configuration: EngineConfiguration(stackSize: self.stackSize))
                let store = Store(engine: engine)
                var imports = Imports()
                wasi.link(to: &imports, store: store)
                let instance = try module.instantiate(store: store, imports: imports)
                return try wasi.start(instance)
            }
        } catch {
            throw BenchError("stock WASI: \(name).wasm: \(error)")
        }
        let cpu1 = threadCPUNanoseconds()
        let wall1 = wallNanoseconds()
        guard code == 0 else { throw BenchError("stock WASI: \(name).wasm exited with \(code)") }
        return Sample(wall: Double(wall1 - wall0) / 1e9, cpu: Double(cpu1 - cpu0) / 1e9)
    }
}

/// Runs the gcc -O2 builds of the guests as host processes.
final class NativeRunner {
    let guests: String
    let dataDirectory: String
    private let commands = CommandRunner()

    init(base: String, guests: String) throws {
        self.guests = guests
        dataDirectory = base + "/data-native"
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }

    /// Spawn + run + wait, timed as a whole; CPU time is the child's user + system time.
    func run(_ name: String, arguments: [String], stdio: Kernel.StandardIO) throws -> Sample {
        try commands.run("\(guests)/native/\(name)", arguments, stdio: stdio)
    }
}

/// The calling process's mapped (virtual) and resident memory, in bytes, from /proc/self/statm.
func processMemory() -> (virtual: Double, resident: Double) {
    guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return (.nan, .nan) }
    let fields = text.split(separator: " ").compactMap { Double($0) }
    guard fields.count >= 2 else { return (.nan, .nan) }
    let page = Double(sysconf(Int32(_SC_PAGESIZE)))
    return (fields[0] * page, fields[1] * page)
}

/// A JSON string literal for a host path.
func jsonString(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        default:
            if scalar.value < 0x20 { out += String(format: "\\u%04x", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
    }
    return out + "\""
}

/// Host descriptors for a guest's standard streams: stdin from /dev/null, stdout to /dev/null
/// or to a capture file, stderr inherited.
final class StandardStreams {
    let null: Int32
    let nullInput: Int32

    init() throws {
        null = open("/dev/null", O_WRONLY)
        nullInput = open("/dev/null", O_RDONLY)
        guard null >= 0, nullInput >= 0 else { throw BenchError("cannot open /dev/null") }
    }

    var discard: Kernel.StandardIO { Kernel.StandardIO(input: nullInput, output: null, error: 2) }

    /// Runs `body` with stdout going to a fresh temporary file and returns what was written.
    func capture(in directory: String, _ body: (Kernel.StandardIO) throws -> Void) throws -> String {
        let path = directory + "/capture-\(UUID().uuidString).txt"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw BenchError("cannot create \(path)") }
        defer { unlink(path) }
        do {
            try body(Kernel.StandardIO(input: nullInput, output: fd, error: 2))
        } catch {
            close(fd)
            throw error
        }
        close(fd)
        return (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
