import CloisterAPI
import Foundation
import Hummingbird
import Platform

/// A request body decoded strictly: text that is not JSON as RFC 8259 has it (a trailing comma),
/// a key given twice, unknown fields, wrong types and missing fields are 400s that name the field.
protocol StrictBody: Decodable {
    /// The fields the body may have, as on the wire.
    static var fields: [String] { get }
    /// The fields of nested objects, by the path of an object field or of an array of objects
    /// (`"inputs"`, `"network"`, `"network.connect"`).
    static var nestedFields: [String: [String]] { get }
    /// The largest body of this request, in bytes (413 past it).
    static var maxBytes: Int { get }
}

extension StrictBody {
    static var nestedFields: [String: [String]] { [:] }
    /// 64 KiB: enough for every request that carries no payload or inline data.
    static var maxBytes: Int { 64 << 10 }
}

extension Request {
    /// The body decoded as `T`, checked field by field; at most `T.maxBytes`, counted against the
    /// client's body budget.
    mutating func decodeStrict<T: StrictBody>(_ type: T.Type, context: APIRequestContext) async throws -> T {
        let buffer = try await collectBody(upTo: T.maxBytes, context: context)
        let data = Data(buffer.readableBytesView)
        do {
            try StrictJSON.validate(Array(buffer.readableBytesView))
        } catch {
            if let field = error.field {
                throw PlatformError.badRequest(field: field, message: "given twice in the body (line \(error.line), column \(error.column))")
            }
            throw PlatformError.badRequest(field: nil, message: "the body is not valid JSON: \(error)")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) else {
            throw PlatformError.badRequest(field: nil, message: "the body is not valid JSON")
        }
        guard let fields = object as? [String: Any] else {
            throw PlatformError.badRequest(field: nil, message: "the body must be a JSON object")
        }
        for key in fields.keys.sorted() where !T.fields.contains(key) {
            throw PlatformError.badRequest(field: key, message: "unknown field; the fields are \(T.fields.joined(separator: ", "))")
        }
        for (path, allowed) in T.nestedFields.sorted(by: { $0.key < $1.key }) {
            // `path` names an object field or an array of objects, through objects ("network.connect").
            var value: Any? = fields
            for part in path.split(separator: ".") { value = (value as? [String: Any])?[String(part)] }
            let objects: [(String, Any)] = (value as? [Any]).map { $0.enumerated().map { ("\(path)[\($0.offset)]", $0.element) } } ?? [(path, value as Any)]
            for (field, object) in objects {
                guard let objectFields = object as? [String: Any] else { continue }
                for key in objectFields.keys.sorted() where !allowed.contains(key) {
                    throw PlatformError.badRequest(field: "\(field).\(key)", message: "unknown field; the fields are \(allowed.joined(separator: ", "))")
                }
            }
        }
        do {
            return try WireFormat.decoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw Self.describe(error)
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        var text = ""
        for key in codingPath {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += (text.isEmpty ? "" : ".") + WireFormat.wireName(key.stringValue)
            }
        }
        return text
    }

    private static func describe(_ error: DecodingError) -> PlatformError {
        switch error {
        case .typeMismatch(let type, let context):
            return .badRequest(field: path(context.codingPath), message: "expected \(typeName(type))")
        case .valueNotFound(let type, let context):
            return .badRequest(field: path(context.codingPath), message: "expected \(typeName(type)), got null")
        case .keyNotFound(let key, let context):
            return .badRequest(field: path(context.codingPath + [key]), message: "required")
        case .dataCorrupted(let context):
            return .badRequest(field: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            return .badRequest(field: nil, message: "the body does not match the request")
        }
    }

    private static func typeName(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Double.Type: return "a number"
        case is [Any].Type: return "an array"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "an object"
        }
    }
}

extension LoginRequest: StrictBody { static let fields = ["id", "password"] }
extension RegisterUserRequest: StrictBody { static let fields = ["id", "password", "role"] }
extension UpdateUserRequest: StrictBody { static let fields = ["role"] }
extension ChangePasswordRequest: StrictBody { static let fields = ["old_password", "new_password"] }
extension RegisterFunctionRequest: StrictBody {
    static let fields = [
        "name", "description", "executor_type", "payload", "public", "arguments", "inputs", "outputs", "user_allowlist",
        "usage_quota", "network",
    ]
    static let nestedFields = [
        "arguments": ["key", "default_value", "allow_overwrite"], "inputs": ["name", "description", "optional"],
        "outputs": ["name", "description", "optional"], "network": ["connect", "listen"], "network.connect": ["host", "port"],
        "network.listen": ["address", "port"],
    ]
    static var maxBytes: Int { APIServer.maxBodyBytes }
}
extension UpdateFunctionRequest: StrictBody {
    static let fields = [
        "name", "description", "payload", "public", "arguments", "inputs", "outputs", "user_allowlist", "usage_quota", "network",
    ]
    static let nestedFields = RegisterFunctionRequest.nestedFields
    static var maxBytes: Int { APIServer.maxBodyBytes }
}
extension RegisterInputRequest: StrictBody {
    static let fields = ["url", "scheme", "key", "iv", "tag"]
    /// A `data:` URL of up to 16 MiB, and the rest.
    static var maxBytes: Int { (16 << 20) + (64 << 10) }
}
extension RegisterOutputRequest: StrictBody { static let fields = ["url", "scheme", "key", "iv", "owners"] }
extension RegisterInputFromOutputRequest: StrictBody { static let fields = ["output_id"] }
extension CreateTaskRequest: StrictBody {
    static let fields = ["function_id", "function_arguments", "executor", "inputs_ownership", "outputs_ownership", "engine"]
}
extension AssignDataRequest: StrictBody { static let fields = ["inputs", "outputs"] }
