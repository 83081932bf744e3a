import CloisterAPI
import Foundation
import Hummingbird
import NIOCore
import Platform

/// `/v1/health`, `/v1/openapi.json`, `/v1/attestation` (no token needed), `/v1/audit` (admins),
/// `/v1/audit/head` and `/v1/workers` (any signed-in user) and `/metrics` (Prometheus; an admin's
/// token or the operator's metrics token).
struct SystemRoutes {
    let platform: Platform

    /// `GET /metrics`: the platform's figures in Prometheus' text format (`PlatformMetrics`), for a
    /// scraper that sends `Authorization: Bearer <metricsToken>` (a static secret the operator
    /// gives `cloister serve --metrics-token-file`) or an admin's login token.
    func addMetrics(to router: Router<APIRequestContext>, token metricsToken: String?) {
        router.get("metrics") { request, _ in
            guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
                throw PlatformError.unauthorized("sign in first: Authorization: Bearer <token>")
            }
            let token = String(header.dropFirst(7))
            if let metricsToken, Self.same(token, metricsToken) {
                // the operator's scraper
            } else {
                let caller = try await platform.accounts.authenticate(token: token)
                guard caller.role == .platformAdmin else { throw PlatformError.forbidden("only a PlatformAdmin (or the metrics token) may read the metrics") }
            }
            let text = try await platform.metrics.render()
            return Response(
                status: .ok, headers: [.contentType: PlatformMetrics.contentType], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
    }

    /// Compares two secrets in time that does not depend on where they differ.
    private static func same(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func addPublic(to group: RouterGroup<APIRequestContext>) {
        group.get("health") { _, _ in
            try JSONResponse.make(HealthStatus(status: "ok", version: APIServer.version))
        }
        group.get("openapi.json") { _, _ in
            guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"),
                let data = try? Data(contentsOf: url)
            else { throw PlatformError.notFound("the OpenAPI document is missing from this build") }
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        // Public, like a TEE's quote: anyone may learn the keys before trusting the platform.
        group.get("attestation") { _, _ in
            try JSONResponse.make(try await platform.attestation())
        }
    }

    func add(to group: RouterGroup<APIRequestContext>) {
        group.get("audit") { request, context in
            let query = request.uri.queryParameters
            let limitText = query.get("limit") ?? "100"
            guard let limit = Int(limitText), limit > 0 else {
                throw PlatformError.badRequest(field: "limit", message: "must be a positive integer")
            }
            let entries = try await platform.auditEntries(
                try context.requireCaller(), user: query.get("user"), object: query.get("object"), limit: limit)
            return try JSONResponse.make(AuditList(entries: entries))
        }
        group.get("audit/head") { _, context in
            _ = try context.requireCaller()
            return try JSONResponse.make(try await platform.auditHead())
        }
        group.get("workers") { _, context in
            _ = try context.requireCaller()
            return try JSONResponse.make(WorkerKeyList(workers: try await platform.workerKeys()))
        }
    }
}
