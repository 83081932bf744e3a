import APIServer
import AsyncHTTPClient
import Foundation
import Testing

/// The OpenAPI document in the repository (and served at `/v1/openapi.json`) describes exactly
/// the routes the server has.
@Suite("OpenAPI document")
struct OpenAPIDocumentTests {
    @Test("every route of the router but the approval page's is in openapi.json, and nothing else")
    func documentMatchesRoutes() async throws {
        try await TestServer.with(workers: 0) { server in
            let router = APIServer.router(for: server.platform)
            let all = Set(router.routes.map { route -> String in
                let path = "/" + route.path.description.split(separator: "/").map { component in
                    component.hasPrefix(":") ? "{\(component.dropFirst())}" : String(component)
                }.joined(separator: "/")
                return "\(route.method.rawValue.lowercased()) \(path)"
            })
            let page: Set = ["get /", "get /app.js", "get /app.css"]
            #expect(page.isSubset(of: all))
            let routes = all.subtracting(page)
            let document = try #require(
                try JSONSerialization.jsonObject(with: try await server.client.openAPIDocument()) as? [String: Any])
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            let methods: Set<String> = ["get", "post", "put", "patch", "delete"]
            let documented = Set(paths.flatMap { path, operations in
                operations.keys.filter(methods.contains).map { "\($0) \(path)" }
            })
            #expect(routes == documented, "missing: \(routes.subtracting(documented).sorted()); extra: \(documented.subtracting(routes).sorted())")
            #expect(routes.count > 30)
        }
    }

    @Test("a path the API has, asked with a method it does not take, is 405 with Allow; an unknown path is 404")
    func unknownMethodsAre405() async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            for (method, path, allow) in [
                ("TRACE", "/v1/audit", "GET"), ("DELETE", "/v1/health", "GET"), ("PUT", "/v1/users/someone", "DELETE, GET, PATCH"),
                ("GET", "/v1/tasks/t-1/invoke", "POST"), ("OPTIONS", "/v1/inputs/from-output", "POST"), ("PUT", "/v1/inputs/input-1", "GET"),
            ] {
                var request = HTTPClientRequest(url: server.client.baseURL + path)
                request.method = .init(rawValue: method)
                request.headers.add(name: "Authorization", value: "Bearer \(admin.token!)")
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                #expect(response.status.code == 405, "\(method) \(path)")
                #expect(response.headers.first(name: "Allow") == allow, "\(method) \(path)")
            }
            #expect(try await admin.send(.GET, "/v1/nothing").status == 404)
        }
    }
}
