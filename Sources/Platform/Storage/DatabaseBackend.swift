import SQLKit

/// What each database engine provides to ``PlatformDatabase``: write transactions with a commit
/// policy, reads outside any transaction, and notifications between processes.
protocol DatabaseBackend: Sendable {
    var kind: DatabaseKind { get }

    /// Runs `body` inside one transaction and commits it with `durability`; rolls back if `body`
    /// throws. Returns once the commit is done (for `.durable`, on disk). A backend may run the body
    /// again if the database asks for a retry (a serialization failure or deadlock on PostgreSQL),
    /// so a body does database work only.
    func write<T: Sendable>(
        durability: Durability, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T

    /// Runs `body` on a connection that sees every committed transaction and writes nothing.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T

    /// Starts delivering other processes' events to `deliver` (nothing to do where there are none).
    func listen(_ deliver: @escaping @Sendable (StoreEvent) -> Void)

    /// Closes every connection.
    func shutdown() async throws
}
