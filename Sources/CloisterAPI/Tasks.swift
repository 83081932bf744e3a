import Foundation

/// `POST /v1/tasks`.
public struct CreateTaskRequest: Codable, Sendable {
    public var functionId: String
    /// Exactly the function's overwritable arguments (the rest take their defaults); a value is a
    /// string, number or boolean.
    public var functionArguments: [String: ArgumentValue]?
    /// What runs the function: `builtin`, `cpython` or `wasmkit`.
    public var executor: String
    /// The owners of each declared input by name (optional inputs may be left out).
    public var inputsOwnership: [String: [String]]?
    /// The owners of each declared output by name (optional outputs may be left out).
    public var outputsOwnership: [String: [String]]?
    /// The instruction engine a `wasm` or `python` task must run on (`wasmtime`, `wasmkit`):
    /// only a worker running that engine claims it. Absent: any worker that runs the executor.
    public var engine: String?
    public init(
        functionId: String, functionArguments: [String: ArgumentValue]? = nil, executor: String,
        inputsOwnership: [String: [String]]? = nil, outputsOwnership: [String: [String]]? = nil, engine: String? = nil
    ) {
        self.functionId = functionId
        self.functionArguments = functionArguments
        self.executor = executor
        self.inputsOwnership = inputsOwnership
        self.outputsOwnership = outputsOwnership
        self.engine = engine
    }
}

/// A function argument's value: JSON text, a number or a boolean, kept as text (the executors
/// read `"100"` and `100` alike).
public struct ArgumentValue: Codable, Sendable, Equatable, ExpressibleByStringLiteral {
    public var text: String
    public init(_ text: String) {
        self.text = text
    }
    public init(stringLiteral value: String) {
        text = value
    }
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self.text = text
        } else if let flag = try? container.decode(Bool.self) {
            text = flag ? "true" : "false"
        } else if let number = try? container.decode(Int.self) {
            text = String(number)
        } else if let number = try? container.decode(Double.self) {
            text = String(number)
        } else {
            throw DecodingError.typeMismatch(
                String.self, .init(codingPath: decoder.codingPath, debugDescription: "expected a string, number or boolean"))
        }
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// `POST /v1/tasks/{id}/data`: files for the task's declared inputs and outputs, by name.
public struct AssignDataRequest: Codable, Sendable {
    public var inputs: [String: String]?
    public var outputs: [String: String]?
    public init(inputs: [String: String]? = nil, outputs: [String: String]? = nil) {
        self.inputs = inputs
        self.outputs = outputs
    }
}

/// A task's state: Created → DataAssigned → Approved → Staged → Running → Finished | Failed | Canceled.
public enum TaskState: String, Codable, Sendable, CaseIterable {
    case created = "Created"
    case dataAssigned = "DataAssigned"
    case approved = "Approved"
    case staged = "Staged"
    case running = "Running"
    case finished = "Finished"
    case failed = "Failed"
    case canceled = "Canceled"

    /// Finished, Failed and Canceled: nothing happens to the task any more.
    public var isFinal: Bool { self == .finished || self == .failed || self == .canceled }
}

/// What a finished task produced.
public struct TaskResult: Codable, Sendable, Equatable {
    /// The function's result string.
    public var returnValue: String
    /// Each output's integrity tag (hex), by name.
    public var outputTags: [String: String]
    /// The function's log (standard output and error, the executor's notes).
    public var log: String
    /// The instruction engine that ran the function (`wasmtime` or `wasmkit`); absent for builtins.
    public var engine: String?
    public init(returnValue: String, outputTags: [String: String], log: String, engine: String? = nil) {
        self.returnValue = returnValue
        self.outputTags = outputTags
        self.log = log
        self.engine = engine
    }
}

/// A task, as its participants see it.
public struct TaskInfo: Codable, Sendable, Equatable {
    public var id: String
    public var functionId: String
    public var functionOwner: String
    /// The function's name and the SHA-256 of its payload when the task was created: what the
    /// participants approve (a worker refuses to run the function if either changed since).
    public var functionName: String
    public var payloadSha256: String
    public var creator: String
    public var executor: String
    /// Every argument the function gets (the task's and the defaults).
    public var functionArguments: [String: String]
    public var inputsOwnership: [String: [String]]
    public var outputsOwnership: [String: [String]]
    /// Who must approve: every data owner, the creator, and the function's owner when private.
    public var participants: [String]
    public var approvedBy: [String]
    public var assignedInputs: [String: String]
    public var assignedOutputs: [String: String]
    public var state: TaskState
    public var result: TaskResult?
    /// Why the task failed or was canceled.
    public var reason: String?
    public var createdAt: Date
    public var updatedAt: Date
    /// The engine the task must run on, when its creator chose one.
    public var engine: String?
    /// The network use the function declared when the task was created: what every participant's
    /// approval covers, and all the function may reach when it runs (absent: no network).
    public var network: FunctionNetwork?
    public init(
        id: String, functionId: String, functionOwner: String, functionName: String, payloadSha256: String, creator: String,
        executor: String,
        functionArguments: [String: String], inputsOwnership: [String: [String]], outputsOwnership: [String: [String]],
        participants: [String], approvedBy: [String], assignedInputs: [String: String], assignedOutputs: [String: String],
        state: TaskState, result: TaskResult?, reason: String?, createdAt: Date, updatedAt: Date, engine: String? = nil,
        network: FunctionNetwork? = nil
    ) {
        self.id = id
        self.functionId = functionId
        self.functionOwner = functionOwner
        self.functionName = functionName
        self.payloadSha256 = payloadSha256
        self.creator = creator
        self.executor = executor
        self.functionArguments = functionArguments
        self.inputsOwnership = inputsOwnership
        self.outputsOwnership = outputsOwnership
        self.participants = participants
        self.approvedBy = approvedBy
        self.assignedInputs = assignedInputs
        self.assignedOutputs = assignedOutputs
        self.state = state
        self.result = result
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.engine = engine
        self.network = network
    }
}

/// `GET /v1/tasks`: the tasks the caller takes part in.
public struct TaskList: Codable, Sendable {
    public var tasks: [TaskInfo]
    public init(tasks: [TaskInfo]) {
        self.tasks = tasks
    }
}
