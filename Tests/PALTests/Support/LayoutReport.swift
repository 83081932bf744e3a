import CloisterTestSupport
/// The layout of C structures as the Swift side imports them, printed in the line format of the
/// C layout programs (`Tests/Guests/abi_layout.c`, `Programs/pal_layout.c`):
///
///     sizeof NAME N
///     alignof NAME N
///     offsetof NAME.FIELD N size N
///     const NAME N
struct LayoutReport {
    private(set) var lines: [String] = []

    /// Adds the size, alignment and every field's offset and size of `type`.
    mutating func structure<T>(_ name: String, _ type: T.Type, _ fields: [(String, PartialKeyPath<T>)]) {
        lines.append("sizeof \(name) \(MemoryLayout<T>.size)")
        lines.append("alignof \(name) \(MemoryLayout<T>.alignment)")
        for (field, keyPath) in fields {
            let offset = MemoryLayout<T>.offset(of: keyPath).map(String.init) ?? "none"
            lines.append("offsetof \(name).\(field) \(offset) size \(Self.size(of: Swift.type(of: keyPath).valueType))")
        }
    }

    /// Adds a constant.
    mutating func constant(_ name: String, _ value: some BinaryInteger) {
        lines.append("const \(name) \(Int64(value))")
    }

    private static func size(of type: any Any.Type) -> Int {
        func size<V>(_: V.Type) -> Int { MemoryLayout<V>.size }
        return size(type)
    }
}
