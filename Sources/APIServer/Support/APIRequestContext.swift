import Hummingbird
import Platform

/// The context of one API request: Hummingbird's core context, the client's address and, once
/// authenticated, the caller.
public struct APIRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller (set by `AuthenticationMiddleware`).
    public var caller: Caller?
    /// The client's IP address, for the limits kept per client.
    public let clientAddress: String?
    /// The bearer token the caller authenticated with (for a logout).
    var token: String?
    /// This request's share of its client's body budget (set by `BodyBudgetMiddleware`).
    var bodyReservation: BodyReservation?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        caller = nil
        clientAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The authenticated caller; routes behind the authentication middleware always have one.
    func requireCaller() throws -> Caller {
        guard let caller else { throw PlatformError.unauthorized("sign in first: Authorization: Bearer <token>") }
        return caller
    }
}
