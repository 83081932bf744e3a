/// Runs one system call for a guest thread, whatever engine made the call.
///
/// Each engine adapts only the calling convention (its values in, an `i32` out, unwinding on
/// ``GuestStop/processEnding``); everything else is here, once: a call leaves for the kernel when
/// the thread's process is ending — before the call and after it —, is counted and traced, and
/// its errno becomes the guest's value as the syscall's ``Syscall/Behavior`` says.
enum SyscallDispatch {
    /// The value the guest gets back. Throws ``GuestStop/processEnding`` when the thread must
    /// leave guest code (its process is ending, or it called `proc_exit`).
    static func invoke(_ syscall: Syscall, _ context: SyscallContext, _ arguments: SyscallArguments) throws(GuestStop) -> Int32 {
        let process = context.process
        let thread = context.thread
        if process.isEnding { throw .processEnding }
        thread.syscallCount += 1
        let log = context.kernel.log
        var result: Int32 = 0
        var error = Errno.success
        switch syscall.behavior {
        case .exit:
            let code = Int32(bitPattern: arguments.u32(0))
            if log.isEnabled(.trace) {
                log.log(.trace, "proc_exit(\(code))", pid: process.pid, tid: thread.tid, syscall: thread.syscallCount)
            }
            process.end(with: .exited(code))
            throw .processEnding
        case .errno(let handler):
            do { try handler(context, arguments) } catch let failure {
                error = failure
                result = Int32(failure.rawValue)
            }
        case .value(let handler):
            do { result = try handler(context, arguments) } catch let failure {
                error = failure
                result = -Int32(failure.rawValue)
            }
        case .minusOneOnError(let handler):
            do { result = try handler(context, arguments) } catch let failure {
                error = failure
                result = -1
            }
        }
        if log.isEnabled(.trace) {
            let list = (0..<arguments.count).map { "\(arguments[$0])" }.joined(separator: ", ")
            let answer: String
            if case .errno = syscall.behavior { answer = error.name } else { answer = error == .success ? "\(result)" : error.name }
            log.log(.trace, "\(syscall.name)(\(list)) = \(answer)", pid: process.pid, tid: thread.tid, syscall: thread.syscallCount)
        }
        if process.isEnding { throw .processEnding }
        return result
    }
}
