import Synchronization

/// The value types a syscall takes, as the engine passes them.
public enum SyscallParameter: Sendable {
    case i32, i64
}

/// A syscall's arguments as raw 64-bit values, in an inline buffer (no allocation per call).
public struct SyscallArguments {
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    public private(set) var count = 0

    public init() {}

    /// Appends the next argument.
    public mutating func append(_ value: UInt64) {
        precondition(count < 10, "a syscall takes at most 10 arguments")
        withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: value, toByteOffset: count * 8, as: UInt64.self) }
        count += 1
    }

    public subscript(_ index: Int) -> UInt64 {
        withUnsafeBytes(of: storage) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }

    /// Argument `index` as a 32-bit value (pointers, lengths, descriptors, flags).
    @inline(__always)
    public func u32(_ index: Int) -> UInt32 { UInt32(truncatingIfNeeded: self[index]) }
}

/// One system call a guest can import.
public struct Syscall: Sendable {
    /// What the kernel does when the guest calls it.
    public enum Behavior: Sendable {
        /// Runs the handler and answers its errno (0 on success).
        case errno(@Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Void)
        /// Ends the process with the exit code in argument 0 (`proc_exit`).
        case exit
    }

    public let name: String
    public let parameters: [SyscallParameter]
    public let behavior: Behavior

    /// Whether the guest gets an errno back.
    public var returnsErrno: Bool {
        if case .errno = behavior { return true }
        return false
    }
}

/// What a syscall handler runs against: the calling process and its memory.
public final class SyscallContext: @unchecked Sendable {
    unowned let kernel: Kernel
    let process: Process
    /// The caller's linear memory; set once the module is instantiated.
    var memory: any UserMemory

    /// How many contexts exist: one per running process, so a leak of ended processes shows.
    static let liveCount = Atomic<Int>(0)

    init(kernel: Kernel, process: Process, memory: any UserMemory) {
        self.kernel = kernel
        self.process = process
        self.memory = memory
        SyscallContext.liveCount.add(1, ordering: .relaxed)
    }

    deinit { SyscallContext.liveCount.subtract(1, ordering: .relaxed) }

    var files: FileTable { process.files }
    var walker: PathWalker { PathWalker(vfs: kernel.vfs) }
}

/// A memory of zero bytes, for guests that export none.
final class NoMemory: UserMemory {
    var byteCount: Int { 0 }
    func withUncheckedBytes<T>(at address: UInt32, count: Int, _ body: (UnsafeMutableRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeMutableRawBufferPointer(start: nil, count: 0))
    }
}
