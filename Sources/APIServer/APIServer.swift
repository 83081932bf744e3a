import CloisterAPI
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Platform
import ServiceLifecycle

/// The HTTP API of a platform: every route under `/v1`, JSON bodies, one error shape, bearer
/// tokens, TLS when given a certificate; and the approval page at `/`.
public enum APIServer {
    /// The version `/v1/health` reports.
    public static let version = "0.7.0"
    /// The largest request body accepted (a 32 MiB payload in base64, with room to spare), by the
    /// calls that take a payload; every other call takes far less (`StrictBody.maxBytes`).
    public static let maxBodyBytes = 48 << 20

    /// Where and how to listen.
    public struct Configuration: Sendable {
        public var host: String
        /// 0 picks a free port (reported to `onRunning`).
        public var port: Int
        /// PEM files of the certificate chain and its private key; both or neither.
        public var tlsCertificatePath: String?
        public var tlsKeyPath: String?
        /// Bytes of request bodies one client address may have in flight at once (default
        /// 100 MiB: two of the largest bodies).
        public var bodyBytesPerClient: Int
        /// The bearer token a Prometheus scraper sends to `GET /metrics` (nil: only admins' tokens).
        public var metricsToken: String?

        public init(
            host: String = "127.0.0.1", port: Int = 8470, tlsCertificatePath: String? = nil, tlsKeyPath: String? = nil,
            bodyBytesPerClient: Int = 100 << 20, metricsToken: String? = nil
        ) {
            self.host = host
            self.port = port
            self.tlsCertificatePath = tlsCertificatePath
            self.tlsKeyPath = tlsKeyPath
            self.bodyBytesPerClient = bodyBytesPerClient
            self.metricsToken = metricsToken
        }
    }

    /// The router with every route of the API.
    public static func router(
        for platform: Platform, bodyBytesPerClient: Int = 100 << 20, metricsToken: String? = nil
    ) -> Router<APIRequestContext> {
        let router = Router(context: APIRequestContext.self)
        let routes = RouteMethods()
        router.add(middleware: ErrorMiddleware(routes: routes))
        router.add(middleware: BodyBudgetMiddleware(budget: BodyBudget(bytesPerClient: bodyBytesPerClient)))
        let open = router.group("v1")
        SystemRoutes(platform: platform).addPublic(to: open)
        AccountRoutes(platform: platform).addPublic(to: open)
        let authenticated = router.group("v1").add(middleware: AuthenticationMiddleware(platform: platform))
        AccountRoutes(platform: platform).add(to: authenticated)
        FunctionRoutes(platform: platform).add(to: authenticated)
        DataRoutes(platform: platform).add(to: authenticated)
        TaskRoutes(platform: platform).add(to: authenticated)
        SystemRoutes(platform: platform).add(to: authenticated)
        SystemRoutes(platform: platform).addMetrics(to: router, token: metricsToken)
        WebRoutes().add(to: router)
        routes.record(router)
        return router
    }

    /// The application: the HTTP server and the platform's workers, as one service group.
    /// `onRunning` gets the port the server listens on.
    public static func application(
        platform: Platform, configuration: Configuration, logger: Logger = Logger(label: "cloister.api"),
        onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder
        switch (configuration.tlsCertificatePath, configuration.tlsKeyPath) {
        case (let certificate?, let key?):
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let tls = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
            server = try .tls(.http1(), tlsConfiguration: tls)
        case (nil, nil):
            server = .http1()
        default:
            throw PlatformSetupError("give both a TLS certificate and its key, or neither")
        }
        let services: [any Service] = [WorkerService(pool: platform.workers)]
        return Application(
            router: router(for: platform, bodyBytesPerClient: configuration.bodyBytesPerClient, metricsToken: configuration.metricsToken),
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "Cloister"),
            services: services,
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}

/// The worker pool as a service of the application's group.
struct WorkerService: Service {
    let pool: WorkerPool
    func run() async throws { await pool.run() }
}
