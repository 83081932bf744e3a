import WasmKit

/// Binds the kernel's syscalls into a WasmKit store for one guest thread.
///
/// Each bound function leaves for the kernel when the thread's process is ending — before the
/// call and after it — counts and traces the call, and turns its errno into the guest's value.
struct SyscallBinding {
    let context: SyscallContext
    let log: KernelLog

    func function(for syscall: Syscall, store: Store) -> Function {
        let parameters = syscall.wasmParameters
        let process = context.process
        let thread = context.thread
        let context = self.context
        let log = self.log
        let name = syscall.name
        switch syscall.behavior {
        case .exit:
            return Function(store: store, parameters: parameters, results: []) { _, arguments, _ in
                thread.syscallCount += 1
                let code = Int32(bitPattern: arguments[0].i32)
                if log.isEnabled(.trace) {
                    log.log(.trace, "proc_exit(\(code))", pid: process.pid, tid: thread.tid, syscall: thread.syscallCount)
                }
                process.end(with: .exited(code))
                throw ProcessEnding()
            }
        case .errno(let handler):
            return Function(store: store, parameters: parameters, results: [.i32]) { _, arguments, results in
                let result = try call(name, arguments) { values throws(Errno) -> Int32 in
                    try handler(context, values)
                    return 0
                }
                results[0] = .i32(UInt32(bitPattern: result))
            }
        case .value(let handler):
            return Function(store: store, parameters: parameters, results: [.i32]) { _, arguments, results in
                let result = try call(name, arguments, errors: .negated) { values throws(Errno) -> Int32 in try handler(context, values) }
                results[0] = .i32(UInt32(bitPattern: result))
            }
        case .minusOneOnError(let handler):
            return Function(store: store, parameters: parameters, results: [.i32]) { _, arguments, results in
                let result = try call(name, arguments, errors: .minusOne) { values throws(Errno) -> Int32 in try handler(context, values) }
                results[0] = .i32(UInt32(bitPattern: result))
            }
        }
    }

    /// How a call answers an errno.
    private enum ErrorAnswer {
        /// Its number (`errno` calls).
        case number
        /// Its negated number (`value` calls).
        case negated
        /// -1 (`minusOneOnError` calls).
        case minusOne
    }

    /// Runs one call and answers an errno as `errors` says.
    @inline(__always)
    private func call(_ name: String, _ arguments: UnsafeBufferPointer<Value>, errors: ErrorAnswer = .number, _ body: (SyscallArguments) throws(Errno) -> Int32) throws -> Int32 {
        let process = context.process
        let thread = context.thread
        if process.isEnding { throw ProcessEnding() }
        thread.syscallCount += 1
        var values = SyscallArguments()
        for argument in arguments {
            switch argument {
            case .i32(let value): values.append(UInt64(value))
            case .i64(let value): values.append(value)
            default: values.append(0)
            }
        }
        var result: Int32
        var error = Errno.success
        do {
            result = try body(values)
        } catch let failure {
            error = failure
            switch errors {
            case .number: result = Int32(failure.rawValue)
            case .negated: result = -Int32(failure.rawValue)
            case .minusOne: result = -1
            }
        }
        if log.isEnabled(.trace) {
            let list = (0..<values.count).map { "\(values[$0])" }.joined(separator: ", ")
            log.log(.trace, "\(name)(\(list)) = \(error == .success && errors != .number ? "\(result)" : error.name)", pid: process.pid, tid: thread.tid, syscall: thread.syscallCount)
        }
        if process.isEnding { throw ProcessEnding() }
        return result
    }
}
