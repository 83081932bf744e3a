import CloisterAPI
import Foundation
import Hummingbird
import NIOCore
import Platform

/// `/v1/health`, `/v1/openapi.json` (no token needed) and `/v1/audit` (admins).
struct SystemRoutes {
    let platform: Platform

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
    }
}
