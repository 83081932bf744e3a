import APIServer
import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Foundation
import Logging
import Platform
import Scenarios
import ServiceLifecycle
import Testing

/// A real platform and HTTP server on an ephemeral loopback port, in a temporary data folder,
/// stopped (gracefully) when the body returns.
struct TestServer: Sendable {
    static let adminPassword = "admin-password-for-tests"
    let client: CloisterClient
    let platform: Platform
    let folder: String

    /// Runs `body` against a fresh server.
    static func with<T: Sendable>(
        workers: Int = 2, server serverConfiguration: APIServer.Configuration = .init(port: 0),
        configure: @Sendable (inout PlatformConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-platform-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = PlatformConfiguration(dataFolder: folder)
        configuration.adminPassword = adminPassword
        configuration.passwordCost = 4
        configuration.workers = workers
        configuration.functionLimits.timeout = 120_000_000_000
        let database = try await TestDatabase.make()
        if let database { configuration.database = database }
        // Every party of every scenario signs in from 127.0.0.1.
        configuration.loginLimits.attemptsPerAddress = 1000
        // Compiled programs in this user's cache, shared by every test server (and kept for the next run).
        configuration.useSandboxes(engine: nil, cacheFolder: nil)
        configure(&configuration)
        var logger = Logger(label: "cloister.test")
        logger.logLevel = .critical
        let platform: Platform
        do {
            platform = try await Platform.open(configuration, logger: logger)
        } catch {
            await TestDatabase.drop(database)
            throw error
        }
        defer { Task { await TestDatabase.drop(database) } }
        _ = try await platform.bootstrapAdmin()
        let ports = AsyncStream<Int>.makeStream()
        let group: ServiceGroup
        do {
            let application = try APIServer.application(
                platform: platform, configuration: serverConfiguration, logger: logger, onRunning: { ports.continuation.yield($0) })
            group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        } catch {
            try? await platform.shutdown()
            throw error
        }
        do {
            let result = try await run(group: group, ports: ports.stream, platform: platform, folder: folder, body)
            try await platform.shutdown()
            return result
        } catch {
            try? await platform.shutdown()
            throw error
        }
    }

    private static func run<T: Sendable>(
        group: ServiceGroup, ports: AsyncStream<Int>, platform: Platform, folder: String, _ body: @Sendable (TestServer) async throws -> T
    ) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { throw ScenarioFailure("the server did not start") }
            let server = TestServer(client: CloisterClient(baseURL: "http://127.0.0.1:\(port)"), platform: platform, folder: folder)
            let value: T
            do {
                value = try await body(server)
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return value
        }!
    }

    /// The scenarios' context for this server.
    var scenarioContext: ScenarioContext {
        ScenarioContext(
            client: client, adminPassword: Self.adminPassword,
            examples: PackagePaths.root.appendingPathComponent("examples/functions").path,
            psiModule: (try? TestGuests.directory().appendingPathComponent("functions/psi.wasm").path) ?? "",
            log: { _ in })
    }

    /// A client logged in as `id`.
    func session(_ id: String, _ password: String) async throws -> CloisterClient {
        try await client.session(id, password)
    }
}

extension CloisterClient {
    /// This client logged in as `id`.
    func session(_ id: String, _ password: String) async throws -> CloisterClient {
        with(token: try await login(id: id, password: password).token)
    }

    /// The admin, a function owner `fo` and a data owner manager `mgr` of attribute `x`, each
    /// logged in (the admin with ``TestServer/adminPassword``).
    func standardUsers() async throws -> (admin: CloisterClient, owner: CloisterClient, user: CloisterClient) {
        let admin = try await session("admin", TestServer.adminPassword)
        _ = try await admin.registerUser(RegisterUserRequest(id: "fo", password: "password-1", role: "FunctionOwner"))
        let owner = try await session("fo", "password-1")
        _ = try await admin.registerUser(RegisterUserRequest(id: "mgr", password: "password-1", role: "DataOwnerManager-x"))
        return (admin, owner, try await session("mgr", "password-1"))
    }
}

/// The database the platform suite runs on: SQLite files in each test's folder (the default), or,
/// when `CLOISTER_TEST_POSTGRES` names a PostgreSQL server (as `make test`'s second run does,
/// through scripts/postgres.sh), a new database on it for each platform a test starts.
enum TestDatabase {
    /// The PostgreSQL server of this run, if any.
    static var postgresServer: String? {
        ProcessInfo.processInfo.environment["CLOISTER_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    static var isPostgres: Bool { postgresServer != nil }

    /// A new database for one platform, or nil for the default SQLite file in its data folder.
    static func make() async throws -> DatabaseLocation? {
        guard let server = postgresServer else { return nil }
        return .postgres(url: try await ScratchDatabase.create(on: server, prefix: "cloister_test"))
    }

    /// Drops a database `make` made.
    static func drop(_ location: DatabaseLocation?) async {
        guard let server = postgresServer, case .postgres(let url) = location else { return }
        try? await ScratchDatabase.drop(url, on: server)
    }

    /// The `--database` arguments of a `cloister` process whose data is in `folder`: one database
    /// per folder, kept in `folder/database` so that a restart finds it again.
    static func arguments(folder: String) async throws -> [String] {
        guard postgresServer != nil else { return [] }
        let file = folder + "/database"
        if let url = try? String(contentsOfFile: file, encoding: .utf8) { return ["--database", url] }
        guard case .postgres(let url) = try await make() else { return [] }
        try url.write(toFile: file, atomically: true, encoding: .utf8)
        return ["--database", url]
    }
}

/// The real `cloister` executable as a server process, for tests that kill or restart it.
enum ServerProcess {
    /// Starts `cloister serve` on a free port with `--data <folder>/data` (one worker, a 2 s stale
    /// limit, cheap password hashes), the test database and `arguments`; the process and a client of
    /// it (`scheme`). Its output goes to `<folder>/serve.log`, which a failure to start quotes.
    static func start(
        folder: String, arguments: [String] = [], scheme: String = "http", environment: [String: String] = [:]
    ) async throws -> (Foundation.Process, CloisterClient) {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let portFile = folder + "/port"
        try? FileManager.default.removeItem(atPath: portFile)
        let process = try launch(
            ["serve", "--data", folder + "/data", "--port", "0", "--port-file", portFile, "--workers", "1", "--stale-after", "2",
             "--password-cost", "4"] + (try await TestDatabase.arguments(folder: folder)) + arguments, environment: environment,
            log: folder + "/serve.log")
        let port = { () -> Int? in
            (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        guard await poll(within: 60, { port() != nil || !process.isRunning }), let listening = port() else {
            process.terminate()
            let log = (try? String(contentsOfFile: folder + "/serve.log", encoding: .utf8)) ?? ""
            throw CloisterClientError(status: 0, code: "start", message: "cloister serve did not start: \(log.suffix(2000))")
        }
        return (process, CloisterClient(baseURL: "\(scheme)://127.0.0.1:\(listening)"))
    }

    /// Starts `cloister <arguments>` with the test admin's password in its environment; its output
    /// goes to `log` (default: nowhere).
    static func launch(_ arguments: [String], environment extra: [String: String] = [:], log: String? = nil) throws -> Foundation.Process {
        let process = Foundation.Process()
        process.executableURL = CloisterExecutable.url
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CLOISTER_ADMIN_PASSWORD"] = TestServer.adminPassword
        environment.merge(extra) { _, new in new }
        process.environment = environment
        if let log { _ = FileManager.default.createFile(atPath: log, contents: nil) }
        let output = FileHandle(forWritingAtPath: log ?? "/dev/null")
        process.standardOutput = output
        process.standardError = output
        try process.run()
        return process
    }
}

/// A self-signed certificate for 127.0.0.1 made by openssl in `folder`: `cert.pem` and `key.pem`.
enum SelfSignedCertificate {
    static func make(in folder: String) throws -> (certificate: String, key: String) {
        let made = HostTool.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem",
            "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
        ])
        try #require(made.status == 0, "openssl: \(made.output)")
        return (folder + "/cert.pem", folder + "/key.pem")
    }
}

/// Polls `condition` every 20 ms until it holds (true) or `seconds` pass (false), without
/// blocking a thread of the cooperative pool. A condition that throws counts as not holding yet.
func poll(within seconds: Double, _ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return (try? await condition()) == true
}
