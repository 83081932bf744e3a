import Foundation

/// The `"process"` section of `Cloister.json`: per-process defaults.
public struct ProcessDefaults: Sendable, Equatable {
    /// `"default_stack_size"`: the interpreter stack of each guest thread, in bytes.
    public var defaultStackSize: UInt64
    /// `"default_heap_size"`: the most linear memory one process may grow to, in bytes.
    public var defaultHeapSize: UInt64

    /// Creates process defaults.
    public init(defaultStackSize: UInt64, defaultHeapSize: UInt64) {
        self.defaultStackSize = defaultStackSize
        self.defaultHeapSize = defaultHeapSize
    }

    /// The JSON keys, in documentation order.
    static let keys = ["default_stack_size", "default_heap_size"]

    /// The most linear memory a wasm32 module can address: 4 GiB.
    static let wasm32AddressSpace: UInt64 = 1 << 32

    /// Decodes and validates the section. `userSpaceSize` is the instance-wide memory limit,
    /// which one process's heap may not exceed.
    init(
        decoding value: ConfigJSONValue, path: String, userSpaceSize: UInt64, with decoder: ConfigDecoder
    ) throws(ConfigError) {
        let object = try decoder.object(value, path: path, required: Self.keys)
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
    }
}
