/// Starts guest threads, each on a host thread of its own, whatever the engine.
///
/// Every guest thread — a process's main thread too — runs on a host thread the kernel started
/// with a known stack (``HostThread/stackSize``): a JIT engine runs guest code on the host
/// stack, so the caller's own thread (an embedder's, of unknown size) never runs it.
struct GuestRunner {
    let kernel: Kernel

    /// Starts the main thread of `main.process` on a new host thread: creates the process's
    /// engine state, instantiates the program, then runs its entry; `ended` is called there with
    /// the process's status once every thread has finished. Returns once the program is
    /// instantiated. Throws `ENOMEM` or `ENOEXEC` when it cannot start (the process is then
    /// reaped), `EAGAIN` when the host refuses a thread.
    func startMainThread(_ main: GuestThread, ended: @escaping (WaitStatus) -> Void) throws(Errno) {
        let process = main.process
        try kernel.interruptAgent.start()
        let started = StartupHandshake()
        let kernel = self.kernel
        do throws(Errno) {
            try HostThread.start {
                let instance: GuestInstance
                do throws(Errno) {
                    process.engineState = try process.program.module.startProcess(process)
                    instance = try GuestInstance(kernel: kernel, thread: main)
                } catch {
                    kernel.finish(process, status: .exited(127), started: false)
                    started.fail(error)
                    return
                }
                started.succeed()
                kernel.log.log(.debug, "exec \(process.path) \(process.arguments.count) args", pid: process.pid, tid: main.tid)
                switch process.entry {
                case .command: instance.run(entry: ProgramEntry.command.exportName)
                case .function(let name): instance.runFunction(name, arguments: process.arguments)
                case .reactor(let name): instance.runReactor(name)
                }
                process.waitForOtherThreads(than: main)
                let status = process.endStatus ?? .exited(0)
                kernel.finish(process, status: status)
                ended(status)
            }
        } catch {
            kernel.finish(process, status: .exited(127), started: false)
            throw error
        }
        try started.wait()
    }

    /// Starts a thread of `caller`'s process at `wasi_thread_start(tid, argument)` on a new
    /// host thread; returns its tid once it is instantiated.
    func spawnThread(from caller: GuestThread, argument: Int32) throws(Errno) -> Int32 {
        let process = caller.process
        guard process.program.facts.exportedFunctions["wasi_thread_start"] != nil else {
            throw Errno.noexec.with(reason: "\(process.path) has no wasi_thread_start export")
        }
        let table = kernel.table
        try table.reserveThread()
        let thread = GuestThread(tid: table.threadID(), process: process, affinity: caller.sched.affinity)
        let started = StartupHandshake()
        let kernel = self.kernel
        do throws(Errno) {
            try HostThread.start {
                let instance: GuestInstance
                do throws(Errno) {
                    instance = try GuestInstance(kernel: kernel, thread: thread)
                } catch {
                    table.releaseThread()
                    started.fail(error)
                    return
                }
                started.succeed()
                instance.run(entry: "wasi_thread_start", arguments: [UInt32(bitPattern: thread.tid), UInt32(bitPattern: argument)])
                table.releaseThread()
            }
        } catch {
            table.releaseThread()
            throw error
        }
        try started.wait()
        return thread.tid
    }
}
