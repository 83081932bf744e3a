import Foundation

/// The `"process"` section of `Cloister.json`: per-process defaults.
public struct ProcessDefaults: Sendable, Equatable {
    /// `"default_stack_size"`: the interpreter stack of each guest thread, in bytes.
    public var defaultStackSize: UInt64
    /// `"default_heap_size"`: the most linear memory one process may grow to, in bytes.
    public var defaultHeapSize: UInt64

    /// `"cpu_time_limit"`: CPU time one process may use over all its threads, in nanoseconds
    /// (`null`: no limit). Over it the process is killed as by SIGXCPU.
    public var cpuTimeLimit: UInt64?
    /// `"wall_time_limit"`: wall-clock time one process may run, in nanoseconds (`null`: no limit).
    public var wallTimeLimit: UInt64?
    /// `"interrupt_period"`: how often the interrupt agent looks for threads to force into the
    /// kernel (limits, deadlines, signals not yet acted on), in nanoseconds.
    public var interruptPeriod: UInt64

    /// The interrupt agent's period when the config does not set one: 10 ms.
    public static let defaultInterruptPeriod: UInt64 = 10_000_000

    /// Creates process defaults.
    public init(
        defaultStackSize: UInt64, defaultHeapSize: UInt64, cpuTimeLimit: UInt64? = nil, wallTimeLimit: UInt64? = nil,
        interruptPeriod: UInt64 = ProcessDefaults.defaultInterruptPeriod
    ) {
        self.defaultStackSize = defaultStackSize
        self.defaultHeapSize = defaultHeapSize
        self.cpuTimeLimit = cpuTimeLimit
        self.wallTimeLimit = wallTimeLimit
        self.interruptPeriod = interruptPeriod
    }

    /// The JSON keys, in documentation order.
    static let keys = ["default_stack_size", "default_heap_size"]
    static let optionalKeys = ["cpu_time_limit", "wall_time_limit", "interrupt_period"]

    /// The most linear memory a wasm32 module can address: 4 GiB.
    static let wasm32AddressSpace: UInt64 = 1 << 32

    /// Decodes and validates the section. `userSpaceSize` is the instance-wide memory limit,
    /// which one process's heap may not exceed.
    init(
        decoding value: ConfigJSONValue, path: String, userSpaceSize: UInt64, with decoder: ConfigDecoder
    ) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.keys, optional: Self.optionalKeys)
        self.defaultStackSize = try decoder.size(object["default_stack_size"], path: object.path("default_stack_size"))
        let heapValue = object["default_heap_size"]
        let heapPath = object.path("default_heap_size")
        let heap = try decoder.size(heapValue, path: heapPath)
        guard heap <= Self.wasm32AddressSpace else {
            throw decoder.error(
                "\(ByteSize.format(heap)) exceeds 4GB, the most linear memory a wasm32 process can address",
                at: heapValue, path: heapPath)
        }
        guard heap <= userSpaceSize else {
            throw decoder.error(
                "\(ByteSize.format(heap)) exceeds resource_limits.user_space_size (\(ByteSize.format(userSpaceSize)))",
                at: heapValue, path: heapPath)
        }
        self.defaultHeapSize = heap
        self.cpuTimeLimit = try object.optional("cpu_time_limit").flatMap { (value) throws(ConfigError) in
            try decoder.duration(value, path: object.path("cpu_time_limit"), allowsNull: true)
        }
        self.wallTimeLimit = try object.optional("wall_time_limit").flatMap { (value) throws(ConfigError) in
            try decoder.duration(value, path: object.path("wall_time_limit"), allowsNull: true)
        }
        let period = try object.optional("interrupt_period").flatMap { (value) throws(ConfigError) in
            try decoder.duration(value, path: object.path("interrupt_period"), allowsNull: false)
        }
        self.interruptPeriod = period ?? Self.defaultInterruptPeriod
    }
}
