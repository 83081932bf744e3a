import CloisterAPI

/// Why a platform call was refused. Each case maps to one API error code and HTTP status.
public enum PlatformError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A field of the request is wrong; `field` names it as it is on the wire.
    case badRequest(field: String?, message: String)
    /// No valid credentials.
    case unauthorized(String)
    /// The caller's role or ownership does not allow the call.
    case forbidden(String)
    /// No such object, or one the caller may not see.
    case notFound(String)
    /// The object's state does not allow the call.
    case conflict(String)
    /// The function's usage quota is used up.
    case quotaExceeded(String)
    /// Too many attempts (logins) or requests at once; `retryAfter` seconds until the next may succeed.
    case tooManyRequests(String, retryAfter: Int)

    /// A bad field: "field 'name': message".
    static func field(_ field: String, _ message: String) -> PlatformError {
        .badRequest(field: field, message: message)
    }

    /// The API error code.
    public var code: APIErrorCode {
        switch self {
        case .badRequest: return .badRequest
        case .unauthorized: return .unauthorized
        case .forbidden: return .forbidden
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .quotaExceeded: return .quotaExceeded
        case .tooManyRequests: return .tooManyRequests
        }
    }

    public var description: String {
        switch self {
        case .badRequest(let field?, let message): return "field '\(field)': \(message)"
        case .badRequest(nil, let message): return message
        case .unauthorized(let message), .forbidden(let message), .notFound(let message), .conflict(let message),
            .quotaExceeded(let message), .tooManyRequests(let message, _):
            return message
        }
    }
}
