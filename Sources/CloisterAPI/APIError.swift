/// The one error shape of the HTTP API: `{ "error": { "code": …, "message": … } }`.
public struct APIErrorBody: Codable, Sendable, Equatable {
    /// The error.
    public var error: APIErrorDetail

    public init(code: APIErrorCode, message: String) {
        error = APIErrorDetail(code: code.rawValue, message: message)
    }
}

/// The code and message of an `APIErrorBody`.
public struct APIErrorDetail: Codable, Sendable, Equatable {
    /// A stable machine-readable code (see `APIErrorCode`).
    public var code: String
    /// What went wrong, for people; names the field for a bad request.
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

/// Every error code the API answers with, and its HTTP status.
public enum APIErrorCode: String, Codable, Sendable, CaseIterable {
    /// 400: the body or a parameter is wrong; the message names the field.
    case badRequest = "bad_request"
    /// 401: no valid token (missing, malformed, expired, or its user was deleted or changed password).
    case unauthorized
    /// 403: the caller's role or ownership does not allow the call.
    case forbidden
    /// 404: no such object, or one the caller may not see (the two are never told apart).
    case notFound = "not_found"
    /// 405: the path exists but does not take this method; `Allow` lists those it takes.
    case methodNotAllowed = "method_not_allowed"
    /// 409: the object is in a state that does not allow the call; the message names the state.
    case conflict
    /// 413: the request body is larger than the server accepts.
    case payloadTooLarge = "payload_too_large"
    /// 429: the function's usage quota is used up.
    case quotaExceeded = "quota_exceeded"
    /// 429: too many login attempts, or too much at once from one client; `Retry-After` says when
    /// to try again.
    case tooManyRequests = "too_many_requests"
    /// 500: a fault of the server; the message says no more than that.
    case internalError = "internal_error"

    /// The HTTP status code that goes with the error.
    public var status: Int {
        switch self {
        case .badRequest: return 400
        case .unauthorized: return 401
        case .forbidden: return 403
        case .notFound: return 404
        case .methodNotAllowed: return 405
        case .conflict: return 409
        case .payloadTooLarge: return 413
        case .quotaExceeded, .tooManyRequests: return 429
        case .internalError: return 500
        }
    }
}
