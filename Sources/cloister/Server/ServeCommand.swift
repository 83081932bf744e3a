import APIServer
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Platform
import ServiceLifecycle

/// `cloister serve`: the whole platform in one process.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the platform: the HTTP API, management, the task queue and a pool of workers.",
        discussion: """
            Everything in one process, on the embedded default: SQLite in the data folder and the \
            API on a loopback port. With --database postgres://… any number of servers (and \
            `cloister worker` processes) share one PostgreSQL database; each start brings the \
            schema up to date, one server at a time (docs/deployment.md). The first start creates \
            the user `admin` with a random password it prints once (or with \
            CLOISTER_ADMIN_PASSWORD). SIGTERM or SIGINT stops it gracefully: running functions are \
            stopped and their tasks queued again, so the next start runs them; nothing is lost. \
            The approval page is served at / (sign in, approve or decline tasks, download your \
            encrypted outputs).
            """
    )

    @OptionGroup var platform: PlatformOptions

    @Option(name: .long, help: "How many tasks the server runs itself at once (0: none; `cloister worker` processes run them).")
    var workers: Int = 2

    @Option(name: .long, help: "The address to listen on.")
    var host: String = "127.0.0.1"

    @Option(name: .long, help: "The port (0: any free port, printed at start).")
    var port: Int = 8470

    @Option(name: .customLong("tls-cert"), help: "A PEM certificate chain: serve HTTPS.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("port-file"), help: "Write the port to this file once listening (for scripts).")
    var portFile: String?

    @Option(
        name: .customLong("metrics-token-file"),
        help: ArgumentHelp("A file holding the bearer token a Prometheus scraper sends to GET /metrics (without it, only admins' tokens).", valueName: "file"))
    var metricsTokenFile: String?

    func validate() throws {
        guard workers >= 0, workers <= 256 else { throw ValidationError("--workers must be 0 to 256") }
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0 to 65535") }
        guard (tlsCertificate == nil) == (tlsKey == nil) else { throw ValidationError("give --tls-cert and --tls-key together") }
    }

    func run() async throws {
        var logger = Logger(label: "cloister")
        logger.logLevel = ProcessInfo.processInfo.environment["CLOISTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        let configuration = try platform.configuration(workers: workers)
        var metricsToken: String?
        if let metricsTokenFile {
            guard let text = try? String(contentsOfFile: metricsTokenFile, encoding: .utf8),
                case let token = text.trimmingCharacters(in: .whitespacesAndNewlines), token.utf8.count >= 16
            else { throw ValidationError("--metrics-token-file: \(metricsTokenFile) must hold a token of at least 16 characters") }
            metricsToken = token
        }
        print("cloister: opening the platform in \(configuration.dataFolder) (database \(configuration.database))")
        let instance: Platform
        do {
            instance = try await Platform.open(configuration, logger: logger)
        } catch {
            CLIExit.error.fail("cannot open the platform in \(configuration.dataFolder): \(ServerErrors.describe(error))")
        }
        let scheme = tlsCertificate == nil ? "http" : "https"
        let host = host
        let portFile = portFile
        let application: any ApplicationProtocol
        do {
            application = try APIServer.application(
            platform: instance,
            configuration: .init(host: host, port: port, tlsCertificatePath: tlsCertificate, tlsKeyPath: tlsKey, metricsToken: metricsToken),
            logger: logger,
            onRunning: { port in
                // Only once the port is ours: a first start that cannot listen shows no password it would lose.
                do {
                    try await Self.bootstrap(instance)
                } catch {
                    print("cloister: could not create the first admin: \(error)")
                }
                print("cloister: serving the API at \(scheme)://\(host):\(port)/v1 with \(configuration.workers) worker(s)")
                if configuration.workers > 0 {
                    print("cloister: their receipts are signed by worker key \(instance.workerKeyId) (public key \(instance.workerPublicKey))")
                }
                print("cloister: the approval page is at \(scheme)://\(host):\(port)/")
                fflush(nil)
                if let portFile { try? "\(port)\n".write(toFile: portFile, atomically: true, encoding: .utf8) }
            })
        } catch {
            try? await instance.shutdown()
            CLIExit.error.fail(ServerErrors.describe(error, host: host, port: port, tlsCertificate: tlsCertificate, tlsKey: tlsKey))
        }
        do {
            try await application.runService(gracefulShutdownSignals: [.sigterm, .sigint])
        } catch {
            try? await instance.shutdown()
            CLIExit.error.fail(ServerErrors.describe(error, host: host, port: self.port, tlsCertificate: tlsCertificate, tlsKey: tlsKey))
        }
        try await instance.shutdown()
        print("cloister: stopped")
    }
}

extension ServeCommand {
    /// Creates the first admin when there is no user, and shows its password once.
    static func bootstrap(_ instance: Platform) async throws {
        guard let admin = try await instance.bootstrapAdmin() else { return }
        if admin.generated {
            print("cloister: created the platform admin '\(admin.id)' with the password \(admin.password)")
            print("cloister: it is shown only this once (set CLOISTER_ADMIN_PASSWORD to choose it)")
        } else {
            print("cloister: created the platform admin '\(admin.id)' with the password from CLOISTER_ADMIN_PASSWORD")
        }
    }
}

/// `cloister worker`: a pool of workers as a process of its own.
struct WorkerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run a pool of workers against a platform's database (beside `cloister serve --workers 0`).",
        discussion: """
            On one host, give it the same --data (and --data-root) as the server. On others, give it \
            the server's --database, the same key-encryption key (--kek-file), the shared --outputs \
            folder and the same --data-root folders (docs/deployment.md). It claims only the tasks it \
            can run (its executors, on its engine). It never changes the database's schema: start \
            `cloister serve` (or run `cloister migrate`) first. SIGTERM or SIGINT stops it \
            gracefully.
            """
    )

    @OptionGroup var platform: PlatformOptions

    @Option(name: .long, help: "How many tasks this worker process runs at once.")
    var workers: Int = 2

    func validate() throws {
        guard workers >= 1, workers <= 256 else { throw ValidationError("--workers must be 1 to 256") }
    }

    func run() async throws {
        var logger = Logger(label: "cloister.worker")
        logger.logLevel = ProcessInfo.processInfo.environment["CLOISTER_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        var configuration = try platform.configuration(workers: workers)
        configuration.runsMigrations = false
        let instance: Platform
        do {
            instance = try await Platform.open(configuration, logger: logger)
        } catch {
            CLIExit.error.fail("cannot open the platform in \(configuration.dataFolder): \(ServerErrors.describe(error))")
        }
        let pool = instance.workers
        print(
            "cloister: worker pool \(pool.name) running \(configuration.workers) task(s) at once (\(pool.capabilities.map(\.description).joined(separator: ", "))) from \(configuration.database)")
        print("cloister: its receipts are signed by worker key \(instance.workerKeyId) (public key \(instance.workerPublicKey))")
        fflush(nil)
        let group = ServiceGroup(
            configuration: .init(services: [WorkerPoolService(pool: pool)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        try await instance.shutdown()
        print("cloister: worker stopped")
    }
}

struct WorkerPoolService: Service {
    let pool: WorkerPool
    func run() async throws { await pool.run() }
}

/// `cloister migrate`: brings a database's schema up to date and exits (an upgrade's first step).
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Bring the database's schema up to date, then exit.",
        discussion: """
            `cloister serve` does the same at every start (one server at a time: the others wait, \
            then find nothing to do); run this to upgrade before any server starts, or to check. \
            Workers never migrate: they refuse a schema other than their own.
            """
    )

    @OptionGroup var options: DatabaseOptions

    func run() async throws {
        let location = try options.location()
        var logger = Logger(label: "cloister.migrate")
        logger.logLevel = .warning
        let opened = try await PlatformDatabase.open(location, logger: logger)
        do {
            try await opened.migrate()
            try await opened.checkSchema()
        } catch {
            try? await opened.shutdown()
            throw error
        }
        try await opened.shutdown()
        print("cloister: the database \(location) is at schema version \(PlatformDatabase.schemaVersion)")
    }
}
