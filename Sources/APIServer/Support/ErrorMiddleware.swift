import CloisterAPI
import Hummingbird
import Logging
import NIOCore
import Platform

/// Turns every error a route throws into the API's one error shape,
/// `{ "error": { "code", "message" } }`, with the status of its code.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext

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
            case .notFound:
                return JSONResponse.error(.notFound, "no such endpoint: \(request.method) \(request.uri.path)")
            case .methodNotAllowed:
                return JSONResponse.error(.notFound, "no such endpoint: \(request.method) \(request.uri.path)")
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
