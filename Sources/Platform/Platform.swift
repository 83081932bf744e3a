import CloisterAPI
import Crypto
import Executors
import Foundation
import Logging

/// One platform instance: its database and every service over it, and (unless configured with
/// none) a pool of in-process workers.
///
/// ```swift
/// let platform = try await Platform.open(PlatformConfiguration(dataFolder: "data"))
/// if let admin = try await platform.bootstrapAdmin() { print(admin.password) }
/// let session = try await platform.accounts.login(LoginRequest(id: "admin", password: …))
/// ```
public final class Platform: Sendable {
    public let configuration: PlatformConfiguration
    public let database: PlatformDatabase
    public let accounts: AccountService
    public let functions: FunctionService
    public let data: DataService
    public let tasks: TaskService
    public let audit: AuditLog
    /// The in-process workers. With `configuration.workers` 0 the pool runs no task but still
    /// settles the tasks of lost workers (those of `cloister worker` processes).
    public let workers: WorkerPool
    /// The figures `/metrics` reports.
    public let metrics: PlatformMetrics
    /// The keys that sign receipts: this process's worker identity and the platform's own.
    let identities: (worker: SigningIdentity, platform: SigningIdentity)
    let keys: WorkerKeys

    /// The threads that hash passwords.
    private let passwordPool: BcryptPool

    private init(
        configuration: PlatformConfiguration, database: PlatformDatabase, tokenKey: [UInt8], keys: DataKeys, passwordPool: BcryptPool,
        decoyHash: String, identities: (worker: SigningIdentity, platform: SigningIdentity), logger: Logger
    ) {
        self.configuration = configuration
        self.database = database
        self.passwordPool = passwordPool
        let audit = AuditLog(database: database, logger: logger)
        accounts = AccountService(
            database: database, hasher: PasswordHasher(cost: configuration.passwordCost, pool: passwordPool),
            signer: TokenSigner(key: tokenKey, lifetime: configuration.tokenLifetime), audit: audit,
            throttle: LoginThrottle(limits: configuration.loginLimits), decoyHash: decoyHash)
        let early = EarlyValidation(registry: configuration.registry, limits: configuration.functionLimits, logger: logger)
        functions = FunctionService(
            database: database, audit: audit, maxPayloadBytes: configuration.maxPayloadBytes, early: early, network: configuration.functionNetwork)
        data = DataService(
            database: database, audit: audit, keys: keys, roots: configuration.dataRoots, outputFolder: configuration.outputFolder,
            httpInputs: configuration.httpInputs, delivery: OutputDelivery(outputFolder: configuration.outputFolder, logger: logger),
            early: early)
        self.identities = identities
        self.keys = WorkerKeys(database: database)
        let queue = TaskQueue(
            database: database, lease: Int(configuration.staleAfter * 1000), maxAttempts: configuration.maxAttempts,
            signer: identities.platform)
        let runner = TaskRunner(
            database: database, functions: functions, data: data, registry: configuration.registry,
            limits: configuration.functionLimits, network: configuration.functionNetwork, workFolder: configuration.workFolder, logger: logger)
        workers = WorkerPool(
            concurrency: configuration.workers, queue: queue, runner: runner, directory: WorkerDirectory(database: database),
            capabilities: WorkerCapability.of(configuration.registry, engine: WorkerCapability.effectiveEngine(configured: configuration.engine)),
            identity: identities.worker, heartbeatInterval: configuration.heartbeatInterval, staleAfter: configuration.staleAfter, hooks: configuration.workerHooks,
            logger: logger)
        tasks = TaskService(database: database, audit: audit, signer: identities.platform)
        metrics = PlatformMetrics(database: database, staleAfter: configuration.staleAfter)
        self.audit = audit
    }

    /// Opens the platform in `configuration.dataFolder` and its database, creating the folder, the
    /// database (SQLite), the key-encryption key (unless one is given) and the platform's own keys
    /// on first use, and migrating the database (or, for a worker, checking its schema, after
    /// waiting for a server to make the schema of a new database). Processes started at the same
    /// moment on one new data folder share its folders and keys (whoever creates a key first wins).
    ///
    /// Whatever the umask, the data folder and the folders the platform keeps in it are made 0700
    /// and its files (database, secrets, kept outputs) 0600. Data keys still stored in the clear
    /// (a database from before they were wrapped) are wrapped with the KEK, and the database is
    /// rewritten so that no page keeps the clear text.
    public static func open(_ configuration: PlatformConfiguration, logger: Logger = Logger(label: "cloister.platform")) async throws -> Platform {
        for folder in [configuration.dataFolder, configuration.outputFolder, configuration.workFolder, configuration.secretsFolder] {
            try PrivateFiles.makeFolder(folder)
        }
        // Before the secrets folder's files are made 0600 below: a worker key others could read is
        // refused, not quietly repaired.
        let workerIdentity = try SigningIdentity.worker(path: configuration.workerKeyPath, create: configuration.workerKey == .dataFolder)
        for root in configuration.dataRoots where !FileManager.default.fileExists(atPath: root) {
            try PrivateFiles.makeFolder(root)
        }
        PrivateFiles.restrictFiles(in: configuration.outputFolder)
        PrivateFiles.restrictFiles(in: configuration.secretsFolder)
        let kek: any KeyEncryptionKey
        do {
            kek = try configuration.keyEncryptionKey ?? LocalKeyEncryptionKey.loadOrCreate(path: configuration.keyEncryptionKeyPath)
        } catch {
            throw PlatformSetupError("\(error)")
        }
        let database = try await PlatformDatabase.open(configuration.database, logger: logger)
        let passwordPool = BcryptPool(threads: configuration.passwordThreads, queueLimit: configuration.passwordQueueLimit)
        do {
            if configuration.runsMigrations {
                try await database.migrate()
            } else {
                try await waitForSchema(database, logger: logger)
                try await database.checkSchema()
            }
            let keys = try await DataKeys.open(database: database, kek: kek)
            let wrapped = try await keys.wrapClearKeys()
            if wrapped > 0 {
                try await database.compact()
                logger.info("wrapped \(wrapped) data key(s) that were stored in the clear")
            }
            let tokenKey = try await tokenKey(database: database, kek: kek, legacyFile: configuration.tokenKeyPath)
            let decoyHash = try await PasswordHasher(cost: configuration.passwordCost, pool: passwordPool).hash(PasswordHasher.randomPassword())
            let platformIdentity = try SigningIdentity(
                kind: .platform, seed: try await PlatformSecrets.key("receipt_key", in: database, kek: kek))
            try await WorkerKeys(database: database).register(platformIdentity, name: "platform")
            return Platform(
                configuration: configuration, database: database, tokenKey: tokenKey, keys: keys, passwordPool: passwordPool,
                decoyHash: decoyHash, identities: (workerIdentity, platformIdentity), logger: logger)
        } catch {
            passwordPool.shutdown()
            try? await database.shutdown()
            throw error
        }
    }

    /// How long a worker waits for a new database's schema: a worker started at the same moment as
    /// its server on a new data folder finds no schema until the server has made it.
    static let schemaWait: Duration = .seconds(60)

    /// Waits while the database has no schema at all (a server is making it), for at most
    /// ``schemaWait``; a schema of another version is for `checkSchema` to refuse at once.
    private static func waitForSchema(_ database: PlatformDatabase, logger: Logger) async throws {
        let deadline = ContinuousClock.now + schemaWait
        var told = false
        while try await database.read({ sql in try await Migrations.currentVersion(sql) }) == 0, ContinuousClock.now < deadline {
            if !told {
                logger.info("the database has no schema yet: waiting for `cloister serve` (or `cloister migrate`) to make it")
                told = true
            }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    /// The key that signs login tokens, kept in the database wrapped by the KEK so that every server
    /// shares it. A data folder of an older version kept it in `secrets/token.key`: that key moves
    /// into the database (its tokens keep working) and the file is removed.
    private static func tokenKey(database: PlatformDatabase, kek: any KeyEncryptionKey, legacyFile: String) async throws -> [UInt8] {
        var legacy: [UInt8]?
        if let data = FileManager.default.contents(atPath: legacyFile) {
            guard data.count == 32 else { throw PlatformSetupError("\(legacyFile) is not a 32-byte key; delete it to make a new one") }
            legacy = Array(data)
        }
        let key = try await PlatformSecrets.key("token_key", in: database, kek: kek, initial: legacy)
        if legacy != nil { unlink(legacyFile) }
        return key
    }

    /// Creates the first admin if there are no users yet: its id and password, and whether the
    /// password was generated (it is then shown only this once).
    public func bootstrapAdmin() async throws -> (id: String, password: String, generated: Bool)? {
        try await accounts.bootstrapAdmin(password: configuration.adminPassword)
    }

    /// The audit log, newest first (admins only).
    public func auditEntries(_ caller: Caller, user: String?, object: String?, limit: Int) async throws -> [AuditEntry] {
        guard caller.isAdmin else {
            await audit.record(user: caller.id, action: "audit.query", allowed: false, detail: "not an admin")
            throw PlatformError.forbidden("only a PlatformAdmin may read the audit log")
        }
        return try await audit.entries(user: user, object: object, limit: min(max(limit, 1), 10_000))
    }

    /// The head of the audit log and of the receipts' chain (any signed-in user).
    public func auditHead() async throws -> AuditHead {
        let head = try await database.read { sql in try await AuditChain.head(sql) }
        return AuditHead(sequence: head.sequence, sha256: head.sha256, receiptSequence: head.receiptSequence, receiptSha256: head.receiptSha256)
    }

    /// Every key that signs receipts (any signed-in user).
    public func workerKeys() async throws -> [WorkerKey] {
        try await keys.list(kind: .worker)
    }

    /// What the platform states about itself: its key, its workers' keys, and (null in this
    /// version) hardware evidence.
    public func attestation() async throws -> Attestation {
        let all = try await keys.list()
        guard let platform = all.first(where: { $0.keyId == identities.platform.keyId }) else {
            throw PlatformError.notFound("the platform's key is not registered")
        }
        return Attestation(platform: platform, workers: all.filter { $0.kind == SigningIdentity.Kind.worker.rawValue }, evidence: nil)
    }

    /// This process's worker identity (the public half): what a verifier of its receipts needs.
    public var workerKeyId: String { identities.worker.keyId }
    public var workerPublicKey: String { identities.worker.publicKeyHex }

    /// Stops the password threads and closes the database.
    public func shutdown() async throws {
        passwordPool.shutdown()
        try await database.shutdown()
    }
}

/// The platform could not start (or be served) as configured: a message for the operator.
public struct PlatformSetupError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
