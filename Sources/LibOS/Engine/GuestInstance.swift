/// One guest thread's instance of its process's program on the kernel's engine, and the one
/// place where however guest code ends becomes the process's fate.
///
/// Created and run on the host thread that runs the guest thread (an engine's store is confined
/// to one thread).
final class GuestInstance {
    let thread: GuestThread
    private let context: SyscallContext
    private var instance: (any EngineInstance)?

    init(kernel: Kernel, thread: GuestThread) throws(Errno) {
        let process = thread.process
        self.thread = thread
        context = SyscallContext(kernel: kernel, thread: thread, memory: NoMemory())
        process.add(thread)
        thread.attach()
        if process.program.facts.sharedMemory != nil {
            let context = context
            context.spawnThread = { (argument) throws(Errno) -> Int32 in
                try GuestRunner(kernel: kernel).spawnThread(from: context.thread, argument: argument)
            }
        }
        do {
            let instance = try process.program.module.instantiate(context)
            context.memory = instance.memory ?? NoMemory()
            self.instance = instance
        } catch {
            finish()
            throw error
        }
        if thread.tid == process.pid { process.markStarted() }
    }

    /// Runs the start function, then `entry` (a command's `_start`, or `wasi_thread_start` with
    /// its tid and argument), and decides the process's end when this thread ends it: the main
    /// thread returning from `_start` (exit 0), a trap (its signal). A thread that returns from
    /// `wasi_thread_start` just ends.
    func run(entry: String, arguments: [UInt32] = []) {
        let process = thread.process
        runGuestCode { (instance) throws(GuestStop) in
            guard process.program.facts.exportedFunctions[entry] != nil else {
                process.end(with: .signaled(.abort, reason: "\(process.path) has no \(entry) function"))
                return
            }
            try instance.runStart()
            _ = try instance.call(entry, arguments)
            if entry == ProgramEntry.command.exportName { process.end(with: .exited(0)) }
        }
    }

    /// Runs the function entry `name` (``ProgramEntry/function(_:)``): the start function and
    /// `_initialize` if exported, then `name(argc, argv)`; its value becomes the status's
    /// `returnValue`.
    func runFunction(_ name: String, arguments: [String]) {
        let process = thread.process
        let facts = process.program.facts
        runGuestCode { (instance) throws(GuestStop) in
            guard facts.exportedFunctions[name] == ModuleFacts.Signature(parameters: [.i32, .i32], results: [.i32]) else {
                process.end(with: .signaled(.abort, reason: "\(process.path): \(name) must be (i32, i32) -> i32, the entry-point convention"))
                return
            }
            try instance.runStart()
            if facts.exportedFunctions["_initialize"] != nil { _ = try instance.call("_initialize", []) }
            let argv: UInt32
            do throws(Errno) {
                argv = try EntryArguments.place(arguments, in: instance, facts: facts)
            } catch {
                process.end(with: .signaled(.abort, reason: "\(process.path): \(error.reason.isEmpty ? error.name : error.reason)"))
                return
            }
            if let value = try instance.call(name, [UInt32(arguments.count), argv]) {
                process.end(with: WaitStatus(rawValue: 0, returnValue: Int32(bitPattern: value)))
            }
        }
    }

    /// Runs the reactor entry `name` (``ProgramEntry/reactor(_:)``): the start function and
    /// `_initialize` if exported, then `name()`, whose value is the exit code.
    func runReactor(_ name: String) {
        let process = thread.process
        let facts = process.program.facts
        runGuestCode { (instance) throws(GuestStop) in
            guard facts.exportedFunctions[name] == ModuleFacts.Signature(parameters: [], results: [.i32]) else {
                process.end(with: .signaled(.abort, reason: "\(process.path): \(name) must be () -> i32, the reactor convention"))
                return
            }
            try instance.runStart()
            if facts.exportedFunctions["_initialize"] != nil { _ = try instance.call("_initialize", []) }
            if let value = try instance.call(name, []) {
                process.end(with: .exited(Int32(bitPattern: value)))
            }
        }
    }

    /// Runs guest code and turns however it stops into the process's fate.
    private func runGuestCode(_ body: (any EngineInstance) throws(GuestStop) -> Void) {
        let process = thread.process
        defer { finish() }
        guard let instance else { return }
        do {
            try body(instance)
        } catch {
            // .processEnding: the process's end was decided (exit, signal, limit), nothing to add;
            // a trap while the process is ending is one the kernel caused to stop the thread.
            guard case .trap(let cause) = error, !process.isEnding else { return }
            if cause == .outOfFuel {
                process.end(with: .signaled(cause.signal, reason: "fuel exhausted: the CPU-time backstop stopped the guest"))
            } else {
                process.end(with: .signaled(cause.signal, reason: "trap: \(cause)"))
            }
        }
    }

    /// Releases the engine instance (and what it charged), leaves the host thread, and breaks
    /// the reference cycles between the context and the thread, or every thread would leak.
    private func finish() {
        thread.setInterruptHook(nil)
        instance = nil
        let cpu = thread.detach()
        thread.process.remove(thread, cpuNanoseconds: cpu)
        context.memory = NoMemory()
        context.spawnThread = nil
    }
}
