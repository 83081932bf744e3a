import Hummingbird
import Platform

/// The context of one API request: Hummingbird's core context and, once authenticated, the caller.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller (set by `AuthenticationMiddleware`).
    public var caller: Caller?

    public init(source: Source) {
        coreContext = .init(source: source)
        caller = nil
    }

    /// The authenticated caller; routes behind the authentication middleware always have one.
    func requireCaller() throws -> Caller {
        guard let caller else { throw PlatformError.unauthorized("sign in first: Authorization: Bearer <token>") }
        return caller
    }
}
