import Hummingbird
import NIOCore
import Platform
import Synchronization

/// How many bytes of request bodies the server holds at once for each client address.
///
/// A body is read in full before it is decoded (a 48 MiB function payload costs about 60 MiB while
/// it is), so without a bound per client one client sending many large bodies at once could take
/// the server's memory. A body is counted by its declared length before it is read (chunked ones as
/// they arrive); one that would take its client past the budget is refused with a 429
/// (`too_many_requests`) and what it held is given back.
final class BodyBudget: Sendable {
    /// Bytes one client may have in flight.
    let bytesPerClient: Int
    private let inFlight = Mutex<[String: Int]>([:])

    init(bytesPerClient: Int) {
        self.bytesPerClient = bytesPerClient
    }

    /// Takes `count` bytes for `client`; false when that would pass the budget.
    func take(_ count: Int, for client: String) -> Bool {
        inFlight.withLock { map in
            let now = map[client, default: 0]
            guard now + count <= bytesPerClient else { return false }
            map[client] = now + count
            return true
        }
    }

    func giveBack(_ count: Int, for client: String) {
        inFlight.withLock { map in
            let left = map[client, default: 0] - count
            map[client] = left > 0 ? left : nil
        }
    }
}

/// What one request holds of its client's budget, given back when the request is answered.
final class BodyReservation: Sendable {
    let budget: BodyBudget
    let client: String
    private let held = Atomic<Int>(0)

    init(budget: BodyBudget, client: String) {
        self.budget = budget
        self.client = client
    }

    /// Takes `count` more bytes, or a 429.
    func take(_ count: Int) throws(PlatformError) {
        guard budget.take(count, for: client) else {
            throw .tooManyRequests(
                "this client is sending more than \(budget.bytesPerClient >> 20) MiB of request bodies at once; wait for the others to finish",
                retryAfter: 1)
        }
        held.add(count, ordering: .relaxed)
    }

    func release() {
        budget.giveBack(held.exchange(0, ordering: .relaxed), for: client)
    }
}

/// Gives each request a reservation on its client's `BodyBudget`, released once it is answered
/// (the body is held until then: decoded, then handled).
struct BodyBudgetMiddleware: RouterMiddleware {
    typealias Context = APIRequestContext
    let budget: BodyBudget

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let reservation = BodyReservation(budget: budget, client: context.clientAddress ?? "unknown")
        context.bodyReservation = reservation
        defer { reservation.release() }
        return try await next(request, context)
    }
}

extension Request {
    /// The whole body, at most `limit` bytes (413 past it), counted against the client's budget
    /// (429 past it).
    ///
    /// A body that declares its length takes all of it before a byte is read, so concurrent bodies
    /// are admitted first come, first served: the one that would pass the budget is refused at once,
    /// and the ones admitted are never refused halfway. (Counting only as bytes arrive let two
    /// bodies racing for the last bytes refuse each other.) A chunked body is counted as it arrives.
    mutating func collectBody(upTo limit: Int, context: APIRequestContext) async throws -> ByteBuffer {
        guard let reservation = context.bodyReservation else { return try await collectBody(upTo: limit) }
        let declared = headers[.contentLength].flatMap { Int($0) }
        if let declared {
            guard declared <= limit else { throw BodyTooLarge(limit: limit) }
            try reservation.take(declared)
        }
        var collected = ByteBuffer()
        for try await piece in body {
            guard collected.readableBytes + piece.readableBytes <= (declared ?? limit) else { throw BodyTooLarge(limit: limit) }
            if declared == nil { try reservation.take(piece.readableBytes) }
            var piece = piece
            collected.writeBuffer(&piece)
        }
        return collected
    }
}

/// A request body past the route's limit (413).
struct BodyTooLarge: Error {
    let limit: Int
}
