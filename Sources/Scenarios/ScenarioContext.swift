import CloisterAPI
import CloisterClient
import Foundation
import ProtectedFiles

/// What the scenarios need: a client of a running server, the admin's password, the example
/// payloads, and where to report progress.
public struct ScenarioContext: Sendable {
    /// A client of the server (without a token).
    public let client: CloisterClient
    public let adminPassword: String
    /// The folder of the example payloads (`examples/functions`).
    public let examples: String
    /// The WebAssembly PSI module built from `examples/functions/psi.c`.
    public let psiModule: String
    /// Where progress lines go.
    public let log: @Sendable (String) -> Void
    /// Added to every user id, so the scenarios can run again on the same server.
    public let suffix: String
    /// Told of every task that ended, with a client of one of its participants (the demo checks
    /// each one's receipt).
    public let ended: @Sendable (_ client: CloisterClient, _ task: String) -> Void

    public init(
        client: CloisterClient, adminPassword: String, examples: String, psiModule: String,
        log: @escaping @Sendable (String) -> Void = { print($0) }, suffix: String = String(UUID().uuidString.prefix(6)).lowercased(),
        ended: @escaping @Sendable (_ client: CloisterClient, _ task: String) -> Void = { _, _ in }
    ) {
        self.client = client
        self.adminPassword = adminPassword
        self.examples = examples
        self.psiModule = psiModule
        self.log = log
        self.suffix = suffix
        self.ended = ended
    }

    /// A client logged in as `id`.
    public func session(_ id: String, _ password: String) async throws -> CloisterClient {
        client.with(token: try await client.login(id: id, password: password).token)
    }

    /// The admin's session.
    public func admin() async throws -> CloisterClient { try await session("admin", adminPassword) }

    /// Registers a function owner, a data owner manager of `attribute` (both by the admin: a function
    /// owner manages no account) and, under the manager, data owners `names` (ids
    /// `<name>-<attribute>-<suffix>`); their sessions.
    public func parties(_ names: [String], attribute: String) async throws -> (functionOwner: CloisterClient, owners: [String: Party]) {
        let admin = try await admin()
        let password = "demo-password-\(suffix)"
        let functionOwnerId = "fo-\(attribute)-\(suffix)"
        _ = try await admin.registerUser(RegisterUserRequest(id: functionOwnerId, password: password, role: "FunctionOwner"))
        let functionOwner = try await session(functionOwnerId, password)
        let managerId = "manager-\(attribute)-\(suffix)"
        _ = try await admin.registerUser(RegisterUserRequest(id: managerId, password: password, role: "DataOwnerManager-\(attribute)"))
        let manager = try await session(managerId, password)
        var owners: [String: Party] = [:]
        for name in names {
            let id = "\(name)-\(attribute)-\(suffix)"
            _ = try await manager.registerUser(RegisterUserRequest(id: id, password: password, role: "DataOwner-\(attribute)"))
            owners[name] = Party(id: id, client: try await session(id, password))
        }
        return (functionOwner, owners)
    }

    /// Polls until the task is final; an error naming its reason unless it Finished.
    public func finish(_ client: CloisterClient, _ id: String) async throws -> TaskInfo {
        let task = try await client.waitForTask(id, timeout: .seconds(600))
        ended(client, id)
        guard task.state == .finished else {
            throw ScenarioFailure("task \(id) ended \(task.state.rawValue): \(task.reason ?? "")\n\(task.result?.log ?? "")")
        }
        return task
    }
}

/// A data owner in a scenario.
public struct Party: Sendable {
    public let id: String
    public let client: CloisterClient

    /// Encrypts `text` with a fresh cloister-file-256 key and registers it as an input (a data: URL).
    public func registerInput(_ text: String) async throws -> DataFile {
        let sealed = try Sealed(text)
        return try await client.registerInput(
            RegisterInputRequest(url: sealed.dataURL, scheme: Sealed.scheme.rawValue, key: Hex.encode(sealed.key), tag: Hex.encode(sealed.tag)))
    }

    /// Registers an output the platform keeps, encrypted with a fresh key; the file and the key.
    public func registerOutput(owners: [String]? = nil) async throws -> (file: DataFile, key: [UInt8]) {
        let key = Sealed.freshKey()
        let file = try await client.registerOutput(RegisterOutputRequest(scheme: Sealed.scheme.rawValue, key: Hex.encode(key), owners: owners))
        return (file, key)
    }

    /// Downloads a written output and decrypts it with `key`.
    public func readOutput(_ id: String, key: [UInt8]) async throws -> String {
        String(decoding: try await readOutputBytes(id, key: key), as: UTF8.self)
    }

    /// Downloads a written output and decrypts it with `key`, as bytes.
    public func readOutputBytes(_ id: String, key: [UInt8]) async throws -> [UInt8] {
        try Sealed.open(Array(try await client.downloadOutput(id)), key: key)
    }
}

/// Data encrypted on the client with cloister-file-256, as a party does before registering it.
struct Sealed {
    static let scheme = Scheme.cloisterFile256
    let key: [UInt8]
    let bytes: [UInt8]
    let tag: [UInt8]

    init(_ text: String) throws {
        key = Self.freshKey()
        let sink = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: Self.scheme, key: key, output: sink)
        try writer.write(Array(text.utf8))
        tag = try writer.finish()
        bytes = sink.bytes
    }

    var dataURL: String { "data:application/octet-stream;base64," + Data(bytes).base64EncodedString() }

    static func freshKey() -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func open(_ bytes: [UInt8], key: [UInt8]) throws -> [UInt8] {
        let reader = try ProtectedFileReader(scheme: scheme, key: key, input: MemoryFile(bytes))
        var plaintext: [UInt8] = []
        while let piece = try reader.read() { plaintext += piece }
        return plaintext
    }
}

/// A scenario's check that did not hold.
public struct ScenarioFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ScenarioFailure(message()) }
}
