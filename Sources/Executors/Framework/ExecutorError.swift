import ProtectedFiles

/// Everything that can go wrong choosing or running a function. Each case describes itself in one
/// line (`description`): it becomes a failed task's reason, so it names the argument, the file and
/// the line at fault.
public enum ExecutorError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The function arguments are not a JSON object.
    case badArguments(String)
    /// A required argument is absent.
    case missingArgument(String)
    /// An argument has the wrong JSON type: `expected` says what it must be, `found` is its JSON text.
    case mistypedArgument(name: String, expected: String, found: String)
    /// An argument has the right type but a value the function does not accept.
    case invalidArgument(name: String, reason: String)
    /// `openInput` with a name the function did not declare.
    case unknownInput(name: String, declared: [String])
    /// `createOutput` with a name the function did not declare.
    case unknownOutput(name: String, declared: [String])
    /// `createOutput` a second time for the same name.
    case outputAlreadyCreated(String)
    /// A write to, or a second close of, an output that was closed.
    case outputClosed(String)
    /// Reading, decrypting, writing or encrypting a staged file failed.
    case file(name: String, ProtectedFileError)
    /// An input's content is not what the function expects; `line` is 1-based when known.
    case badInput(name: String, line: Int?, reason: String)
    /// A string that is not one of `ExecutorType.allCases`.
    case unknownExecutorType(String)
    /// A string that is not one of `Executor.allCases`.
    case unknownExecutor(String)
    /// No executor is registered for the pair.
    case functionNotAvailable(ExecutorType, Executor)
    /// The builtin executor has no function of this name; `available` lists the ones it has.
    case unknownFunction(name: String, available: [String])
    /// A cryptographic operation of a function failed (a bad key, a failed authentication).
    case crypto(String)
    /// The payload cannot be run: not a WebAssembly module, no entry point, not UTF-8 source.
    case badPayload(String)
    /// The function's code trapped (WebAssembly) or was stopped by a fatal signal.
    case trapped(String)
    /// The function ran past its deadline (`FunctionLimits.timeout`) and was killed.
    case deadlineExceeded(String)
    /// The function ran past its CPU-time limit and was killed.
    case cpuTimeExceeded(String)
    /// The function needed more memory than its limit.
    case outOfMemory(String)
    /// A WASI command function exited with a non-zero status; `detail` is its last error line.
    case exited(code: Int32, detail: String)
    /// A Python function raised an exception: the last line of its traceback.
    case exception(String)
    /// The run was canceled (`FunctionRuntime.cancel()`).
    case canceled
    /// The function wrote a file in /outputs that it did not declare.
    case undeclaredOutput(name: String, declared: [String])
    /// What the executor needs is missing (the Python runtime) or the sandbox could not be set up.
    case unavailable(String)
    /// The run failed after the sandbox's network rules refused it something (`refused`, in words:
    /// "connecting to 203.0.113.7:443"); `failure` is how the run then ended.
    case networkRefused(refused: [String], failure: String)

    public var description: String {
        switch self {
        case .badArguments(let detail):
            return "function arguments must be a JSON object: \(detail)"
        case .missingArgument(let name):
            return "missing argument \"\(name)\""
        case .mistypedArgument(let name, let expected, let found):
            return "argument \"\(name)\" must be \(expected), got \(found)"
        case .invalidArgument(let name, let reason):
            return "argument \"\(name)\" \(reason)"
        case .unknownInput(let name, let declared):
            return "no input named \"\(name)\"; declared inputs: \(Self.list(declared))"
        case .unknownOutput(let name, let declared):
            return "no output named \"\(name)\"; declared outputs: \(Self.list(declared))"
        case .outputAlreadyCreated(let name):
            return "output \"\(name)\" was already created"
        case .outputClosed(let name):
            return "output \"\(name)\" is closed"
        case .file(let name, let error):
            return "file \"\(name)\": \(error)"
        case .badInput(let name, let line, let reason):
            if let line { return "input \"\(name)\" line \(line): \(reason)" }
            return "input \"\(name)\": \(reason)"
        case .unknownExecutorType(let name):
            return "unknown executor type \"\(name)\" (valid: \(Self.list(ExecutorType.allCases.map(\.rawValue))))"
        case .unknownExecutor(let name):
            return "unknown executor \"\(name)\" (valid: \(Self.list(Executor.allCases.map(\.rawValue))))"
        case .functionNotAvailable(let type, let executor):
            return "function not available: \(type.rawValue)/\(executor.rawValue)"
        case .unknownFunction(let name, let available):
            return "unknown builtin function \"\(name)\" (available: \(Self.list(available)))"
        case .crypto(let detail):
            return detail
        case .badPayload(let detail):
            return "bad payload: \(detail)"
        case .trapped(let detail):
            return "trapped: \(detail)"
        case .deadlineExceeded(let detail):
            return "deadline exceeded: \(detail)"
        case .cpuTimeExceeded(let detail):
            return "CPU-time limit exceeded: \(detail)"
        case .outOfMemory(let detail):
            return "out of memory: \(detail)"
        case .exited(let code, let detail):
            return "exited with status \(code)" + (detail.isEmpty ? "" : ": \(detail)")
        case .exception(let line):
            return "exception: \(line)"
        case .canceled:
            return "canceled"
        case .undeclaredOutput(let name, let declared):
            return "the function wrote /outputs/\(name), which it did not declare; declared outputs: \(Self.list(declared))"
        case .unavailable(let detail):
            return detail
        case .networkRefused(let refused, let failure):
            return "network use not approved: \(refused.joined(separator: ", ")) was refused (the network use approved for the function does not cover it); the run then failed: \(failure)"
        }
    }

    private static func list(_ names: [String]) -> String {
        names.isEmpty ? "none" : names.joined(separator: ", ")
    }
}

extension ExecutorError {
    /// Runs a protected-file operation on the staged file `name`, its errors as `.file`.
    static func onFile<T>(_ name: String, _ operation: () throws -> T) throws(ExecutorError) -> T {
        do {
            return try operation()
        } catch let error as ProtectedFileError {
            throw .file(name: name, error)
        } catch {
            throw .file(name: name, .io(String(describing: error)))
        }
    }
}
