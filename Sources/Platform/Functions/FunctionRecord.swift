import CloisterAPI
import Foundation

/// A function as stored (its payload is in the `payloads` table).
struct FunctionRecord: StoredRecord {
    static let table = "functions"
    var id: String
    var version = 0
    var name: String
    var description: String
    var executorType: String
    var payloadSize: Int
    var payloadSha256: String
    var isPublic: Bool
    var arguments: [FunctionArgumentSpec]
    var inputs: [FunctionFileSpec]
    var outputs: [FunctionFileSpec]
    var userAllowlist: [String]
    var usageQuota: Int?
    var owner: String
    var disabled: Bool
    /// Tasks invoked so far (what the quota counts).
    var invocations: Int
    var createdAt: Date
    var updatedAt: Date
    /// The network use it declares (nil: none).
    var network: FunctionNetwork? = nil

    var indexColumns: [(String, any Encodable & Sendable)] { [("owner", owner)] }

    /// Whether `caller` may read the function and use it in a task.
    func isVisible(to caller: Caller) -> Bool {
        isPublic || owner == caller.id || userAllowlist.contains(caller.id) || caller.isAdmin
    }

    /// Whether `caller` may change it: its owner, or an admin.
    func isManaged(by caller: Caller) -> Bool {
        owner == caller.id || caller.isAdmin
    }

    var api: Function {
        Function(
            id: id, name: name, description: description, executorType: executorType, payloadSize: payloadSize,
            payloadSha256: payloadSha256, public: isPublic, arguments: arguments, inputs: inputs, outputs: outputs,
            userAllowlist: userAllowlist, usageQuota: usageQuota, owner: owner, disabled: disabled,
            createdAt: createdAt, updatedAt: updatedAt, network: network)
    }
}
