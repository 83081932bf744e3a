/// The one seam between the kernel and an instruction engine.
///
/// The kernel, the VFS and the syscall tables never see an engine's types: they load a program
/// (``ProgramLoader`` asks the engine to validate and compile it), start a process's engine state
/// (``EngineModule/startProcess(_:)``), instantiate a guest thread with the kernel's syscalls as
/// its imports (``EngineModule/instantiate(_:)``), run its entries (``EngineInstance``), read and
/// write its memory (``UserMemory``), and interrupt it (``GuestThread/setInterruptHook(_:)``).
/// Two engines implement it: wasmtime (``WasmtimeEngine``, the fast default) and WasmKit
/// (``WasmKitEngine``, the reference). Both run the same kernel and pass the same tests.
protocol GuestEngine: AnyObject, Sendable {
    var kind: EngineKind { get }
    /// How programs are rewritten before this engine compiles them (``InterruptInstrumentation``).
    var instrumentation: InstrumentationStyle { get }
    /// The host bytes one table element costs, for the memory budget (``MemoryCharge``).
    var tableElementCost: Int { get }

    /// Validates `bytes` (an unmodified module) against the WebAssembly features guests may use:
    /// `ENOEXEC` with the reason when it is not valid.
    func validate(_ bytes: [UInt8], path: String) throws(Errno)

    /// The module compiled earlier from the module whose SHA-256 is `digest`, if `cache` keeps
    /// it (an engine that keeps no compiled code answers nil). Such a module was validated and
    /// instrumented before it was compiled, so neither is done again.
    func cachedModule(digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) -> (any EngineModule)?

    /// Compiles `instrumented`, the instrumented form of the module whose SHA-256 is `digest`,
    /// and keeps the compiled code in `cache` under that digest.
    func compile(_ instrumented: [UInt8], digest: [UInt8], facts: ModuleFacts, path: String, cache: ArtifactCache?) throws(Errno) -> any EngineModule
}

/// A program compiled for one engine, shared by every process and thread that runs it.
protocol EngineModule: AnyObject, Sendable {
    /// Creates what the threads of one process share in the engine — the shared memory of a
    /// `wasm32-wasi-threads` program — or nil when they share nothing. Called on the main
    /// thread's host thread before it is instantiated.
    func startProcess(_ process: Process) throws(Errno) -> (any EngineProcess)?

    /// Instantiates the program for one guest thread, on the host thread that will run it. The
    /// kernel's syscalls are its imports and are answered for `context`; the thread's interrupt
    /// hook is installed; no guest code runs (the start function runs in ``EngineInstance/runStart()``).
    /// `ENOMEM` when the limits refuse its memory or tables, `ENOEXEC` when it cannot be instantiated.
    func instantiate(_ context: SyscallContext) throws(Errno) -> any EngineInstance
}

/// What the threads of one process share in an engine.
protocol EngineProcess: AnyObject, Sendable {}

/// One guest thread's instance of its program.
protocol EngineInstance: AnyObject {
    /// The instance's linear memory (its exported `memory`, or the process's shared memory).
    var memory: (any UserMemory)? { get }

    /// Runs the module's start function, if it has one.
    func runStart() throws(GuestStop)

    /// Calls the exported function `name` with 32-bit arguments; its 32-bit result, if any.
    func call(_ name: String, _ arguments: [UInt32]) throws(GuestStop) -> UInt32?

    /// Grows the exported memory by `pages` from the host; its previous size in pages, or nil
    /// when the limits refuse (the entry-point convention places argv there).
    func growMemory(pages: UInt32) -> UInt32?
}

/// How guest code stopped without returning.
enum GuestStop: Error {
    /// The kernel unwound it: its process is ending (an exit, a signal, a limit).
    case processEnding
    /// It trapped.
    case trap(TrapCause)
}
