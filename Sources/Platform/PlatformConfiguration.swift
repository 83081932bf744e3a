import Executors
import Foundation
import LibOS

/// How a platform instance is set up. The defaults are the embedded single-host platform:
/// SQLite and every file in one data folder.
public struct PlatformConfiguration: Sendable {
    /// The folder of the SQLite database (`cloister.sqlite`, unless ``database`` is elsewhere), the
    /// key-encryption key (`secrets/`), the outputs the platform keeps (`outputs/`, unless
    /// ``outputFolder`` is elsewhere), the workers' scratch space (`work/`) and compiled programs
    /// (`cache/`). The platform makes it and every folder in it 0700, and its files 0600, whatever
    /// the umask.
    public var dataFolder: String
    /// The database (default: SQLite in `<dataFolder>/cloister.sqlite`). Every server and worker of
    /// one platform uses the same one.
    public var database: DatabaseLocation {
        get { chosenDatabase ?? .sqlite(path: dataFolder + "/cloister.sqlite") }
        set { chosenDatabase = newValue }
    }
    private var chosenDatabase: DatabaseLocation?
    /// Whether opening the platform brings the database's schema up to date (servers), or only
    /// checks that it is the one this version knows (workers).
    public var runsMigrations = true
    /// The folder of the outputs the platform keeps (default `<dataFolder>/outputs`). On several
    /// hosts, one folder every server and worker shares (servers serve downloads from it, workers
    /// write into it).
    public var outputFolder: String {
        get { chosenOutputFolder ?? dataFolder + "/outputs" }
        set { chosenOutputFolder = newValue }
    }
    private var chosenOutputFolder: String?
    /// The folders `file://` data URLs may point into (default: `<dataFolder>/files`).
    public var dataRoots: [String]
    /// How long a login token is valid.
    public var tokenLifetime: TimeInterval = 12 * 3600
    /// The bcrypt cost of password hashes.
    public var passwordCost: UInt8 = 12
    /// How many tasks the in-process workers run at once (0: no workers; a separate
    /// `cloister worker` runs the tasks).
    public var workers = 2
    /// How often a worker renews its claim on a running task.
    public var heartbeatInterval: Duration = .seconds(1)
    /// After how many seconds without a heartbeat a running task's worker counts as lost: the
    /// length of the lease a claim or heartbeat takes.
    public var staleAfter: TimeInterval = 15
    /// How many claims a task gets: a task whose lease runs out runs again until it has had this
    /// many attempts, then fails.
    public var maxAttempts = 3
    /// The limits every function runs under.
    public var functionLimits: FunctionLimits = .standard
    /// The largest function payload, in bytes.
    public var maxPayloadBytes = 32 << 20
    /// The first admin's password (default: `CLOISTER_ADMIN_PASSWORD`, else a random one shown once).
    public var adminPassword: String? = ProcessInfo.processInfo.environment["CLOISTER_ADMIN_PASSWORD"]
    /// The executors the workers run functions with; their sandboxes keep compiled programs in
    /// `<dataFolder>/cache`, on the engine `CLOISTER_ENGINE` or wasmtime picks (see
    /// ``useSandboxes(engine:cacheFolder:)``).
    public var registry: ExecutorRegistry
    /// The key-encryption key that wraps the data keys in the database (nil: the one in
    /// `<dataFolder>/secrets/kek.key`, created on first use). A KMS plugs in here.
    public var keyEncryptionKey: (any KeyEncryptionKey)?
    /// How many login attempts are taken per client address and per account.
    public var loginLimits = LoginLimits()
    /// The threads that hash passwords (apart from Swift's cooperative pool), and how many
    /// hashes may wait for them before a call is refused with a 429.
    public var passwordThreads = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)
    public var passwordQueueLimit = 32
    /// Where workers may download http(s) inputs from.
    public var httpInputs = HTTPInputPolicy()
    /// What functions may reach over the network when their tasks' participants approve it:
    /// public destinations, and restricted ranges only where the operator lists them.
    public var functionNetwork = FunctionNetworkPolicy()
    /// The worker's identity key, which signs the receipts of the tasks it runs: by default
    /// `<dataFolder>/secrets/worker.key`, created on first start; or a file the operator gives.
    /// Either must be 0600 (or stricter): a key others may read is refused.
    public var workerKey = WorkerKeySource.dataFolder

    /// The engine the sandboxes were configured with (nil: `CLOISTER_ENGINE`, else the LibOS's default).
    public private(set) var engine: EngineKind?
    /// Test hooks of the workers.
    var workerHooks = WorkerHooks()

    public init(dataFolder: String) {
        self.dataFolder = (dataFolder as NSString).standardizingPath
        dataRoots = [self.dataFolder + "/files"]
        registry = .standard(sandbox: SandboxConfiguration(cacheDirectory: self.dataFolder + "/cache"))
    }

    /// Runs WebAssembly and Python functions on `engine` (nil: the default), keeping compiled
    /// programs in `cacheFolder` (nil: the LibOS's default, a folder of this user's; see
    /// docs/libos.md). The workers advertise the engine they run on (``WorkerCapability``).
    public mutating func useSandboxes(engine: EngineKind?, cacheFolder: String?) {
        self.engine = engine
        registry = .standard(sandbox: SandboxConfiguration(engine: engine, cacheDirectory: cacheFolder))
    }

    var workFolder: String { dataFolder + "/work" }
    var secretsFolder: String { dataFolder + "/secrets" }
    var tokenKeyPath: String { secretsFolder + "/token.key" }
    var keyEncryptionKeyPath: String { secretsFolder + "/kek.key" }
    var workerKeyPath: String {
        if case .file(let path) = workerKey { return path }
        return secretsFolder + "/worker.key"
    }
}
