import ArgumentParser
import Foundation
import LibOS
import Platform

/// The options `serve` and `worker` share: where the platform's data is and how tasks run.
struct PlatformOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("The data folder: the SQLite database, the key-encryption key, kept outputs, scratch space (created if missing).", valueName: "folder"))
    var data: String = "cloister-data"

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The database: postgres://user:password@host:port/database[?sslmode=disable|prefer|require], or sqlite:PATH (default: SQLite in <data>/cloister.sqlite). Every server and worker of one platform uses the same one.",
            valueName: "url"))
    var database: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The folder of the outputs the platform keeps (default <data>/outputs); on several hosts, one folder they all share.",
            valueName: "folder"))
    var outputs: String?

    @Option(name: .customLong("data-root"), help: ArgumentHelp("A folder file:// data URLs may point into (repeat for more; default <data>/files).", valueName: "folder"))
    var dataRoots: [String] = []

    @Option(name: .customLong("password-cost"), help: "The bcrypt cost of password hashes (4–31).")
    var passwordCost: UInt8 = 12

    @Option(name: .customLong("stale-after"), help: "Seconds without a heartbeat after which a running task's worker counts as lost.")
    var staleAfter: Double = 15

    @Option(name: .long, help: "The engine WebAssembly and Python functions run on: wasmtime (the default, when its library loads) or wasmkit.")
    var engine: String?

    @Option(
        name: .customLong("kek-file"),
        help: ArgumentHelp(
            "The key-encryption key that wraps the data keys in the database: 32 bytes, raw or in hex (default <data>/secrets/kek.key, created on first use).",
            valueName: "file"))
    var kekFile: String?

    @Option(
        name: .customLong("worker-key"),
        help: ArgumentHelp(
            "The worker's Ed25519 identity key, which signs its tasks' receipts: 32 bytes, raw or in hex, mode 0600 (default: $CLOISTER_WORKER_KEY, else <data>/secrets/worker.key, created on first start).",
            valueName: "file"))
    var workerKey: String?

    @Option(
        name: .customLong("allow-input-network"),
        help: ArgumentHelp(
            "A network http(s) inputs may be downloaded from even inside the ranges refused by default (loopback, private, link-local, …); repeat for more.",
            valueName: "cidr"))
    var allowInputNetworks: [String] = []

    @Flag(name: .customLong("no-public-inputs"), help: "Download http(s) inputs only from the --allow-input-network networks.")
    var noPublicInputs = false

    @Option(
        name: .customLong("allow-function-network"),
        help: ArgumentHelp(
            "A network inside the ranges functions may never reach by default (loopback, private, link-local, …) that a function may still declare and its task's participants approve; repeat for more.",
            valueName: "cidr"))
    var allowFunctionNetworks: [String] = []

    @Flag(name: .customLong("no-function-network"), help: "Give functions no network at all, whatever they declare; a function that declares any is refused.")
    var noFunctionNetwork = false

    func validate() throws {
        if let database {
            do { _ = try DatabaseLocation(parsing: database) } catch { throw ValidationError("--database: \(error)") }
        }
        guard staleAfter >= 1 else { throw ValidationError("--stale-after must be at least 1 second") }
        guard (4...31).contains(passwordCost) else { throw ValidationError("--password-cost must be 4 to 31") }
        for network in allowInputNetworks where IPNetwork(network) == nil {
            throw ValidationError("--allow-input-network takes an address or ADDRESS/PREFIX, got \(network)")
        }
        for network in allowFunctionNetworks where IPNetwork(network) == nil {
            throw ValidationError("--allow-function-network takes an address or ADDRESS/PREFIX, got \(network)")
        }
        if let engine {
            do { _ = try EngineKind(parsing: engine) } catch { throw ValidationError("--engine: \(error.reason)") }
        }
    }

    /// The platform's configuration with `workers` in-process workers; loads the key-encryption
    /// key when one is given.
    func configuration(workers: Int) throws -> PlatformConfiguration {
        let current = FileManager.default.currentDirectoryPath
        let absolute = { (path: String) in path.hasPrefix("/") ? path : current + "/" + path }
        var configuration = PlatformConfiguration(dataFolder: absolute(data))
        if let database {
            do { configuration.database = try DatabaseLocation(parsing: database) } catch { throw ValidationError("--database: \(error)") }
        }
        if let outputs { configuration.outputFolder = absolute(outputs) }
        if !dataRoots.isEmpty { configuration.dataRoots = dataRoots.map(absolute) }
        configuration.workers = workers
        configuration.staleAfter = staleAfter
        configuration.passwordCost = passwordCost
        configuration.heartbeatInterval = .milliseconds(Int64(min(1000, staleAfter * 1000 / 4)))
        if let kekFile {
            do {
                configuration.keyEncryptionKey = try LocalKeyEncryptionKey.load(path: absolute(kekFile))
            } catch {
                throw ValidationError("--kek-file: \(error)")
            }
        }
        if let key = workerKey ?? ProcessInfo.processInfo.environment["CLOISTER_WORKER_KEY"].flatMap({ $0.isEmpty ? nil : $0 }) {
            configuration.workerKey = .file(absolute(key))
        }
        configuration.httpInputs = HTTPInputPolicy(allowedNetworks: allowInputNetworks.compactMap(IPNetwork.init), allowPublic: !noPublicInputs)
        configuration.functionNetwork = FunctionNetworkPolicy(enabled: !noFunctionNetwork, allowedNetworks: allowFunctionNetworks.compactMap(IPNetwork.init))
        configuration.useSandboxes(engine: engine.flatMap { EngineKind(rawValue: $0) }, cacheFolder: configuration.dataFolder + "/cache")
        return configuration
    }
}

/// Where a command that only reads or migrates the database finds it: `--database`, else the
/// SQLite file in `--data`.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The database (as `serve --database`).", valueName: "url"))
    var database: String?

    @Option(name: .long, help: "The data folder (its SQLite database, without --database).")
    var data: String = "cloister-data"

    func location() throws -> DatabaseLocation {
        do {
            return try database.map { try DatabaseLocation(parsing: $0) } ?? PlatformConfiguration(dataFolder: data).database
        } catch {
            throw ValidationError("--database: \(error)")
        }
    }
}
