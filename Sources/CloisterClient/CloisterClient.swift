import AsyncHTTPClient
import CloisterAPI
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// A client of the Cloister HTTP API (async/await).
///
/// ```swift
/// var client = CloisterClient(baseURL: "http://127.0.0.1:8470")
/// client.token = try await client.login(id: "alice", password: "…").token
/// let task = try await client.createTask(CreateTaskRequest(functionId: id, executor: "builtin"))
/// ```
public struct CloisterClient: Sendable {
    /// The server's address, without a trailing `/` (`http://127.0.0.1:8470`).
    public let baseURL: String
    /// The bearer token sent with every call (set it from `login`).
    public var token: String?
    private let http: HTTPClient
    /// How long one call may take.
    public var timeout: TimeAmount = .seconds(120)

    /// A client of the server at `baseURL` over `httpClient` (default: a shared client that tries
    /// each connection once, for ``connectTimeout``).
    public init(baseURL: String, token: String? = nil, httpClient: HTTPClient? = nil) {
        var base = baseURL
        while base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.token = token
        self.http = httpClient ?? DefaultHTTPClient.shared
    }

    /// This client with `token`.
    public func with(token: String?) -> CloisterClient {
        var copy = self
        copy.token = token
        return copy
    }

    // MARK: Transport

    /// Sends a request and returns the status and body as they are (for tests and tools). A
    /// request that gets no answer — no server, a TLS mismatch, a timeout — is a
    /// ``CloisterClientError`` of status 0 whose message says what to do.
    public func send(_ method: HTTPMethod, _ path: String, body: Data? = nil, token: String? = nil) async throws(CloisterClientError) -> (status: Int, body: Data) {
        do {
            return try await exchange(method, path, body: body, token: token)
        } catch let error as CloisterClientError {
            throw error
        } catch {
            throw TransportErrors.describe(error, url: baseURL, timeout: timeout)
        }
    }

    private func exchange(_ method: HTTPMethod, _ path: String, body: Data?, token: String?) async throws -> (status: Int, body: Data) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let bearer = token ?? self.token { request.headers.add(name: "Authorization", value: "Bearer \(bearer)") }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(data: body))
        }
        let response = try await http.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 1 << 30)
        return (Int(response.status.code), Data(buffer: buffer))
    }

    private func call<Response: Decodable>(_ method: HTTPMethod, _ path: String, _ body: (some Encodable)?, as: Response.Type) async throws -> Response {
        let data = try body.map { try WireFormat.encoder().encode($0) }
        let (status, answer) = try await send(method, path, body: data)
        guard (200..<300).contains(status) else { throw CloisterClientError(status: status, body: answer) }
        return try WireFormat.decoder().decode(Response.self, from: answer)
    }

    private func call<Response: Decodable>(_ method: HTTPMethod, _ path: String, as type: Response.Type) async throws -> Response {
        try await call(method, path, Optional<Empty>.none, as: type)
    }

    private func callNoContent(_ method: HTTPMethod, _ path: String, _ body: (some Encodable)? = Optional<Empty>.none) async throws {
        let data = try body.map { try WireFormat.encoder().encode($0) }
        let (status, answer) = try await send(method, path, body: data)
        guard (200..<300).contains(status) else { throw CloisterClientError(status: status, body: answer) }
    }

    private struct Empty: Codable {}

    private static func escape(_ component: String) -> String {
        component.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? component
    }

    // MARK: System

    public func health() async throws -> HealthStatus { try await call(.GET, "/v1/health", as: HealthStatus.self) }

    /// The server's OpenAPI document, as JSON.
    public func openAPIDocument() async throws -> Data {
        let (status, body) = try await send(.GET, "/v1/openapi.json")
        guard status == 200 else { throw CloisterClientError(status: status, body: body) }
        return body
    }

    /// The audit log, newest first (admins).
    public func audit(user: String? = nil, object: String? = nil, limit: Int = 100) async throws -> [AuditEntry] {
        var query = "?limit=\(limit)"
        if let user { query += "&user=\(Self.escape(user))" }
        if let object { query += "&object=\(Self.escape(object))" }
        return try await call(.GET, "/v1/audit" + query, as: AuditList.self).entries
    }

    /// The newest audit entry and receipt (any signed-in user).
    public func auditHead() async throws -> AuditHead { try await call(.GET, "/v1/audit/head", as: AuditHead.self) }

    /// The keys that sign receipts: every worker's (any signed-in user).
    public func workerKeys() async throws -> [WorkerKey] { try await call(.GET, "/v1/workers", as: WorkerKeyList.self).workers }

    /// The platform's key, its workers' keys and its (hardware) evidence; no token needed.
    public func attestation() async throws -> Attestation { try await call(.GET, "/v1/attestation", as: Attestation.self) }

    // MARK: Accounts

    /// Logs in; set `token` from the answer.
    public func login(id: String, password: String) async throws -> LoginResponse {
        try await call(.POST, "/v1/auth/login", LoginRequest(id: id, password: password), as: LoginResponse.self)
    }

    /// Ends this client's token: it never works again (the user's other tokens still do).
    public func logout() async throws { try await callNoContent(.POST, "/v1/auth/logout") }

    public func registerUser(_ request: RegisterUserRequest) async throws -> User {
        try await call(.POST, "/v1/users", request, as: User.self)
    }

    public func listUsers() async throws -> [User] { try await call(.GET, "/v1/users", as: UserList.self).users }

    public func getUser(_ id: String) async throws -> User { try await call(.GET, "/v1/users/\(Self.escape(id))", as: User.self) }

    public func updateUser(_ id: String, _ request: UpdateUserRequest) async throws -> User {
        try await call(.PATCH, "/v1/users/\(Self.escape(id))", request, as: User.self)
    }

    public func deleteUser(_ id: String) async throws { try await callNoContent(.DELETE, "/v1/users/\(Self.escape(id))") }

    public func changePassword(_ id: String, old: String, new: String) async throws {
        try await callNoContent(.POST, "/v1/users/\(Self.escape(id))/password", ChangePasswordRequest(oldPassword: old, newPassword: new))
    }

    /// Resets a user's password; the new one.
    public func resetPassword(_ id: String) async throws -> String {
        try await call(.POST, "/v1/users/\(Self.escape(id))/password/reset", as: ResetPasswordResponse.self).password
    }

    // MARK: Functions

    public func registerFunction(_ request: RegisterFunctionRequest) async throws -> Function {
        try await call(.POST, "/v1/functions", request, as: Function.self)
    }

    public func listFunctions() async throws -> [Function] { try await call(.GET, "/v1/functions", as: FunctionList.self).functions }

    public func getFunction(_ id: String) async throws -> Function {
        try await call(.GET, "/v1/functions/\(Self.escape(id))", as: Function.self)
    }

    public func updateFunction(_ id: String, _ request: UpdateFunctionRequest) async throws -> Function {
        try await call(.PATCH, "/v1/functions/\(Self.escape(id))", request, as: Function.self)
    }

    /// Updates a function with a JSON body sent as it is, so that the server checks every field
    /// of it (an unknown one is a 400 naming it) rather than a decoded copy that dropped some.
    public func updateFunction(_ id: String, json: Data) async throws -> Function {
        let (status, answer) = try await send(.PATCH, "/v1/functions/\(Self.escape(id))", body: json)
        guard (200..<300).contains(status) else { throw CloisterClientError(status: status, body: answer) }
        return try WireFormat.decoder().decode(Function.self, from: answer)
    }

    public func deleteFunction(_ id: String) async throws { try await callNoContent(.DELETE, "/v1/functions/\(Self.escape(id))") }

    public func disableFunction(_ id: String) async throws -> Function {
        try await call(.POST, "/v1/functions/\(Self.escape(id))/disable", as: Function.self)
    }

    public func functionUsage(_ id: String) async throws -> FunctionUsage {
        try await call(.GET, "/v1/functions/\(Self.escape(id))/usage", as: FunctionUsage.self)
    }

    // MARK: Data

    public func registerInput(_ request: RegisterInputRequest) async throws -> DataFile {
        try await call(.POST, "/v1/inputs", request, as: DataFile.self)
    }

    public func registerOutput(_ request: RegisterOutputRequest) async throws -> DataFile {
        try await call(.POST, "/v1/outputs", request, as: DataFile.self)
    }

    public func registerInput(fromOutput outputId: String) async throws -> DataFile {
        try await call(.POST, "/v1/inputs/from-output", RegisterInputFromOutputRequest(outputId: outputId), as: DataFile.self)
    }

    public func getInput(_ id: String) async throws -> DataFile { try await call(.GET, "/v1/inputs/\(Self.escape(id))", as: DataFile.self) }

    public func getOutput(_ id: String) async throws -> DataFile { try await call(.GET, "/v1/outputs/\(Self.escape(id))", as: DataFile.self) }

    public func listInputs() async throws -> [DataFile] { try await call(.GET, "/v1/inputs", as: DataFileList.self).files }

    public func listOutputs() async throws -> [DataFile] { try await call(.GET, "/v1/outputs", as: DataFileList.self).files }

    /// The stored (encrypted) bytes of a written output the caller owns.
    public func downloadOutput(_ id: String) async throws -> Data {
        let (status, body) = try await send(.GET, "/v1/outputs/\(Self.escape(id))/content")
        guard status == 200 else { throw CloisterClientError(status: status, body: body) }
        return body
    }

    // MARK: Tasks

    public func createTask(_ request: CreateTaskRequest) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks", request, as: TaskInfo.self)
    }

    public func listTasks() async throws -> [TaskInfo] { try await call(.GET, "/v1/tasks", as: TaskList.self).tasks }

    public func getTask(_ id: String) async throws -> TaskInfo { try await call(.GET, "/v1/tasks/\(Self.escape(id))", as: TaskInfo.self) }

    /// A long poll: the task once its state is none of `seen` (none given: the state it has when
    /// the server gets the call) or is final, or after `wait` (whole seconds, at most 30). Given
    /// `.staged, .running`, one call follows a run from its invocation to its end.
    public func getTask(_ id: String, waitingUpTo wait: Duration, whileStateIs seen: TaskState...) async throws -> TaskInfo {
        var path = "/v1/tasks/\(Self.escape(id))?wait=\(wait.components.seconds)"
        if !seen.isEmpty { path += "&state=" + seen.map(\.rawValue).joined(separator: ",") }
        return try await call(.GET, path, as: TaskInfo.self)
    }

    public func assignData(_ id: String, inputs: [String: String] = [:], outputs: [String: String] = [:]) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks/\(Self.escape(id))/data", AssignDataRequest(inputs: inputs, outputs: outputs), as: TaskInfo.self)
    }

    public func approveTask(_ id: String) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks/\(Self.escape(id))/approve", as: TaskInfo.self)
    }

    public func invokeTask(_ id: String) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks/\(Self.escape(id))/invoke", as: TaskInfo.self)
    }

    public func cancelTask(_ id: String) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks/\(Self.escape(id))/cancel", as: TaskInfo.self)
    }

    /// The signed receipt of a task that ended, byte for byte as issued (docs/receipts.md): verify it
    /// offline with `cloister receipt verify`.
    public func taskReceipt(_ id: String) async throws -> Data {
        let (status, body) = try await send(.GET, "/v1/tasks/\(Self.escape(id))/receipt")
        guard status == 200 else { throw CloisterClientError(status: status, body: body) }
        return body
    }

    /// Declines a task the caller takes part in and has not approved: it is `Canceled`, with the
    /// reason `declined by <user>`.
    public func declineTask(_ id: String) async throws -> TaskInfo {
        try await call(.POST, "/v1/tasks/\(Self.escape(id))/decline", as: TaskInfo.self)
    }
}

/// An error answer of the API (or a client-side timeout, status 0).
public struct CloisterClientError: Error, CustomStringConvertible, Equatable {
    public let status: Int
    public let code: String
    public let message: String

    public init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(status: Int, body: Data) {
        if let error = try? WireFormat.decoder().decode(APIErrorBody.self, from: body) {
            self.init(status: status, code: error.error.code, message: error.error.message)
        } else {
            self.init(status: status, code: "http_\(status)", message: String(decoding: body.prefix(500), as: UTF8.self))
        }
    }

    public var description: String { "\(status) \(code): \(message)" }
}
