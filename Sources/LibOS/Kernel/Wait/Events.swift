/// What a file description is ready for, or what a waiter waits for: the `poll(2)` conditions
/// the kernel tells apart (gVisor's `waiter.EventMask`, Occlum's `IoEvents`).
///
/// `error` and `hangUp` are reported whether they were asked for or not, as in `poll(2)`: a
/// reader must learn that its writer is gone, a writer that its reader is.
public struct Events: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// A read would not block (data, or the end of the stream).
    public static let readable = Events(rawValue: 1 << 0)
    /// A write would not block.
    public static let writable = Events(rawValue: 1 << 1)
    /// The description failed, e.g. a pipe's write end whose readers are all gone.
    public static let error = Events(rawValue: 1 << 2)
    /// The other end is gone, e.g. a pipe's read end whose writers are all closed.
    public static let hangUp = Events(rawValue: 1 << 3)

    /// What is always reported, asked for or not.
    public static let unmaskable: Events = [.error, .hangUp]

    /// `self` with what is always reported: what a waiter asking for `self` is woken by.
    var withUnmaskable: Events { union(.unmaskable) }

    public var description: String {
        let names: [(Events, String)] = [(.readable, "readable"), (.writable, "writable"), (.error, "error"), (.hangUp, "hang-up")]
        let present = names.filter { contains($0.0) }.map(\.1)
        return present.isEmpty ? "[]" : "[" + present.joined(separator: ", ") + "]"
    }
}
