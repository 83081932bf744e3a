import CloisterAPI
import Hummingbird
import Logging
import NIOCore
import Platform
import Synchronization

/// Turns every error a route throws into the API's one error shape,
/// `{ "error": { "code", "message" } }`, with the status of its code.
///
/// A path the API has, asked with a method it does not take, is a 405 with an `Allow` header
/// that lists the methods it does take; any other path is a 404.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as PlatformError {
            var response = JSONResponse.error(error.code, error.description)
            if case .tooManyRequests(_, let seconds) = error { response.headers[.retryAfter] = String(seconds) }
            return response
        } catch let error as BodyTooLarge {
            return JSONResponse.error(.payloadTooLarge, "the request body is larger than \(error.limit) bytes, the most this call takes")
        } catch is NIOTooManyBytesError {
            return JSONResponse.error(.payloadTooLarge, "the request body is larger than \(APIServer.maxBodyBytes) bytes")
        } catch let error as HTTPError {
            switch error.status {
            case .contentTooLarge:
                return JSONResponse.error(.payloadTooLarge, "the request body is larger than \(APIServer.maxBodyBytes) bytes")
            case .notFound, .methodNotAllowed:
                let allowed = routes.methods(for: request.uri.path)
                guard !allowed.isEmpty else {
                    return JSONResponse.error(.notFound, "no such endpoint: \(request.method) \(request.uri.path)")
                }
                var response = JSONResponse.error(
                    .methodNotAllowed, "\(request.uri.path) does not take \(request.method); it takes \(allowed.joined(separator: ", "))")
                response.headers[.allow] = allowed.joined(separator: ", ")
                return response
            case .unauthorized:
                return JSONResponse.error(.unauthorized, error.body ?? "unauthorized")
            default:
                if error.status.code < 500 { return JSONResponse.error(.badRequest, error.body ?? error.status.reasonPhrase) }
                context.logger.error("\(request.method) \(request.uri.path): \(error)")
                return JSONResponse.error(.internalError, "internal error")
            }
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            return JSONResponse.error(.internalError, "internal error")
        }
    }
}

/// Authenticates the bearer token of every request it wraps.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let platform: Platform

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else {
            throw PlatformError.unauthorized("sign in first: Authorization: Bearer <token>")
        }
        var context = context
        let token = String(header.dropFirst(7))
        context.caller = try await platform.accounts.authenticate(token: token)
        context.token = token
        return try await next(request, context)
    }
}

/// The methods each route path of the API takes, filled in once the router has its routes.
final class RouteMethods: Sendable {
    private let table = Mutex<[(components: [String], methods: [String])]>([])

    /// Records the routes of `router`.
    func record(_ router: Router<APIRequestContext>) {
        var byPath: [String: Set<String>] = [:]
        for route in router.routes { byPath[route.path.description, default: []].insert(route.method.rawValue) }
        table.withLock { table in
            table = byPath.map { path, methods in
                (path.split(separator: "/").map(String.init), methods.sorted())
            }
        }
    }

    /// The methods that `path` takes (empty when no route has that path). As in the router, a
    /// literal component wins over a parameter: `/v1/inputs/from-output` is not `/v1/inputs/{id}`.
    func methods(for path: String) -> [String] {
        let components = path.split(separator: "/").map(String.init)
        let isParameter = { (component: String) in component.hasPrefix("{") || component.hasPrefix(":") }
        return table.withLock { table in
            table.filter { route in
                route.components.count == components.count
                    && zip(route.components, components).allSatisfy { isParameter($0) || $0 == $1 }
            }.max { first, second in
                first.components.filter { !isParameter($0) }.count < second.components.filter { !isParameter($0) }.count
            }?.methods ?? []
        }
    }
}
