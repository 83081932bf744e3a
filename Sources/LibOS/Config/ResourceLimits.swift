import Foundation

/// The `"resource_limits"` section of `Cloister.json`: limits for the whole instance.
public struct ResourceLimits: Sendable, Equatable {
    /// `"user_space_size"`: the linear memory all processes of the instance may use together, in bytes.
    public var userSpaceSize: UInt64
    /// `"max_num_of_processes"`: how many processes may exist at once.
    public var maxNumOfProcesses: Int
    /// `"max_num_of_threads"`: how many threads (over all processes) may exist at once.
    public var maxNumOfThreads: Int

    /// Creates resource limits.
    public init(userSpaceSize: UInt64, maxNumOfProcesses: Int, maxNumOfThreads: Int) {
        self.userSpaceSize = userSpaceSize
        self.maxNumOfProcesses = maxNumOfProcesses
        self.maxNumOfThreads = maxNumOfThreads
    }

    /// The JSON keys, in documentation order.
    static let keys = ["user_space_size", "max_num_of_processes", "max_num_of_threads"]

    /// Decodes and validates the section.
    init(decoding value: ConfigJSONValue, path: String, with decoder: ConfigDecoder) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.keys)
        self.userSpaceSize = try decoder.size(object["user_space_size"], path: object.path("user_space_size"))
        self.maxNumOfProcesses = try decoder.positiveInteger(
            object["max_num_of_processes"], path: object.path("max_num_of_processes"))
        self.maxNumOfThreads = try decoder.positiveInteger(
            object["max_num_of_threads"], path: object.path("max_num_of_threads"))
    }
}
