import Foundation
import LibOS

/// Command-line options of `cloister-bench` (parsed by hand: the target has no ArgumentParser).
struct Options {
    /// Timed repetitions of every CPU-bound and file I/O case.
    var runs = 5
    /// Untimed runs of every case before the timed ones (the first one also checks outputs).
    var warmup = 1
    /// Iterations of the create+exec+exit latency benchmark.
    var latencyIterations = 200
    /// Size of the fileio benchmark in MiB, and its chunk size in KiB.
    var fileioMiB = 64
    var fileioChunkKiB = 64
    /// Guest folders the LibOS fileio runs in: /tmp (ramfs), /data (hostfs).
    var libosIODirectories = ["/tmp", "/data"]
    /// Folder holding <name>.wasm and native/<name> (what scripts/build-guests.sh writes).
    var guests = ".build/guests"
    /// Sections to run (`Options.sectionNames`).
    var sections: Set<String> = Options.sectionNames
    static let sectionNames: Set<String> = ["engines", "cpu", "io", "latency", "crypto", "processes", "waits", "net", "fuel", "executors", "scientific"]
    /// Round trips of the waits section's ping-pong.
    var pingPongRounds = 2000
    /// Another `cloister` build the waits section also runs (e.g. main's, to compare).
    var baselineCloister: String?
    /// Bytes per case of the net section in MiB, and its send/recv size (the sendmsg message) in KiB.
    var netMiB = 1024
    var netChunkKiB = 64
    /// Fuel budget of the spinner in the fuel section.
    var fuelBudget: UInt64 = 2_000_000_000
    /// Plaintext per protected-file encrypt/decrypt run of the crypto section, in MiB.
    var cryptoMiB = 256
    /// Variants to run: libos, stock, instrumented (stock bridge running the module with the
    /// LibOS's interrupt checks), native. Handy for profiling one of them.
    var variants: Set<String> = ["libos", "stock", "instrumented", "native"]
    /// CPU-bound guests to run.
    var cpuGuests = ["sha256", "sieve"]
    /// Interpreter stack of the stock bridge's engine in KiB (nil: WasmKit's default, 512 KiB).
    var stockStackKiB: Int?
    /// The engine of the in-process LibOS sections (latency, processes, executors; nil: the default).
    var engine: EngineKind?
    /// The `cloister` executable, for the engines section (whole processes).
    var cloister: String?
    /// wasmtime's CLI, the peer of the engines section (scripts/fetch-wasmtime-cli.sh).
    var wasmtimeCLI: String?
    /// The folder holding python-3.11.3.wasm, for the Python cases of the engines section.
    var pythonDirectory: String?
    /// The host's CPython, the native peer of the Python cases.
    var hostPython = "/usr/bin/python3"
    /// Iterations of the pure-Python loop case.
    var pythonLoopCount = 2_000_000
    /// Whether the engines section also runs every case on WasmKit (slow).
    var enginesIncludeWasmKit = true
    /// The scientific Python runtime's folder, and a native CPython with the same packages.
    var scientificDirectory: String?
    var nativeScientificPython: String?
    /// Rows of the scientific section's join and regression.
    var scientificRows = 100_000

    static let usage = """
        usage: cloister-bench [options]

          --guests DIR          guest folder from scripts/build-guests.sh (default .build/guests)
          --runs N              timed repetitions per case (default 5)
          --warmup N            untimed runs per case first; the first checks outputs (default 1)
          --iterations N        create+exec+exit iterations of hello.wasm (default 200)
          --fileio-mib N        fileio size in MiB (default 64)
          --fileio-chunk-kib N  fileio chunk in KiB (default 64)
          --libos-io LIST       LibOS fileio folders: /tmp (ramfs), /data (hostfs) (default both)
          --only LIST           sections, comma-separated: engines,cpu,io,latency,crypto,processes,waits,net,fuel,executors,scientific (default all)
          --crypto-mib N        protected-file encrypt/decrypt size in MiB (default 256)
          --variants LIST       libos,stock,instrumented,native (default all); instrumented is the
                                stock bridge running the module with the LibOS's interrupt checks
          --cpu-guests LIST     CPU-bound guests (default sha256,sieve)
          --stock-stack-kib N   interpreter stack of the stock bridge's engine (default WasmKit's, 512)
          --fuel-budget N       fuel the spinner of the fuel section burns per run (default 2000000000)
          --engine NAME         engine of the in-process LibOS sections: wasmtime or wasmkit (default: the default)
          --cloister PATH       the cloister executable (engines, waits and net sections)
          --baseline-cloister PATH  another cloister build the waits section runs too (e.g. main's)
          --ping-pong-rounds N  round trips of the waits section's ping-pong (default 2000)
          --net-mib N           bytes per case of the net section in MiB (default 1024)
          --net-chunk-kib N     the net section's send/recv size and sendmsg message in KiB (default 64)
          --wasmtime-cli PATH   wasmtime's CLI, the engines section's peer
          --python-dir DIR      the folder holding python-3.11.3.wasm (engines section's Python cases)
          --host-python PATH    the native CPython to compare with (default /usr/bin/python3)
          --python-loop N       iterations of the pure-Python loop (default 2000000)
          --no-wasmkit          the engines section skips WasmKit
          --scientific-dir DIR  the scientific Python runtime (scientific section)
          --native-scientific-python PATH  a native CPython with numpy, pandas and scikit-learn
          --scientific-rows N   rows of the join and the regression (default 100000)
          -h, --help            this text

        Prints Markdown tables to standard output; progress goes to standard error.
        """

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var index = 0
        func value(_ flag: String) throws -> String {
            index += 1
            guard index < arguments.count else { throw UsageError("\(flag) needs a value") }
            return arguments[index]
        }
        func number(_ flag: String, minimum: Int) throws -> Int {
            let text = try value(flag)
            guard let number = Int(text), number >= minimum else {
                throw UsageError("\(flag) needs an integer ≥ \(minimum), got \"\(text)\"")
            }
            return number
        }
        func list(_ flag: String, allowed: Set<String>?) throws -> [String] {
            let items = try value(flag).split(separator: ",").map { String($0) }.filter { !$0.isEmpty }
            if let allowed, let bad = items.first(where: { !allowed.contains($0) }) {
                throw UsageError("\(flag): unknown \"\(bad)\" (expected: \(allowed.sorted().joined(separator: ", ")))")
            }
            guard !items.isEmpty else { throw UsageError("\(flag) needs at least one item") }
            return items
        }
        while index < arguments.count {
            let flag = arguments[index]
            switch flag {
            case "--guests": options.guests = try value(flag)
            case "--runs": options.runs = try number(flag, minimum: 1)
            case "--warmup": options.warmup = try number(flag, minimum: 0)
            case "--iterations": options.latencyIterations = try number(flag, minimum: 2)
            case "--fileio-mib": options.fileioMiB = try number(flag, minimum: 1)
            case "--crypto-mib": options.cryptoMiB = try number(flag, minimum: 1)
            case "--fileio-chunk-kib": options.fileioChunkKiB = try number(flag, minimum: 1)
            case "--libos-io": options.libosIODirectories = try list(flag, allowed: ["/tmp", "/data"])
            case "--only": options.sections = Set(try list(flag, allowed: sectionNames))
            case "--scientific-dir": options.scientificDirectory = try value(flag)
            case "--native-scientific-python": options.nativeScientificPython = try value(flag)
            case "--scientific-rows": options.scientificRows = try number(flag, minimum: 10)
            case "--engine":
                let name = try value(flag)
                guard let kind = EngineKind(rawValue: name) else { throw UsageError("--engine: unknown engine \"\(name)\" (expected: wasmtime, wasmkit)") }
                options.engine = kind
            case "--cloister": options.cloister = try value(flag)
            case "--baseline-cloister": options.baselineCloister = try value(flag)
            case "--ping-pong-rounds": options.pingPongRounds = try number(flag, minimum: 1)
            case "--net-mib": options.netMiB = try number(flag, minimum: 1)
            case "--net-chunk-kib": options.netChunkKiB = try number(flag, minimum: 1)
            case "--wasmtime-cli": options.wasmtimeCLI = try value(flag)
            case "--python-dir": options.pythonDirectory = try value(flag)
            case "--host-python": options.hostPython = try value(flag)
            case "--python-loop": options.pythonLoopCount = try number(flag, minimum: 1)
            case "--no-wasmkit": options.enginesIncludeWasmKit = false
            case "--variants": options.variants = Set(try list(flag, allowed: ["libos", "stock", "instrumented", "native"]))
            case "--cpu-guests": options.cpuGuests = try list(flag, allowed: nil)
            case "--stock-stack-kib": options.stockStackKiB = try number(flag, minimum: 64)
            case "--fuel-budget": options.fuelBudget = UInt64(try number(flag, minimum: 1))
            case "-h", "--help":
                print(usage)
                exit(0)
            default: throw UsageError("unknown option \"\(flag)\"")
            }
            index += 1
        }
        return options
    }
}

struct UsageError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A benchmark that could not run (missing guest, wrong exit status, mismatching output).
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
