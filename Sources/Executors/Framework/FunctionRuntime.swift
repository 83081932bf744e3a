import LibOS
import ProtectedFiles
import Synchronization

/// The files of one run of a function, by the names the function declared.
///
/// `openInput` streams an input's plaintext, decrypting as it reads; `createOutput` encrypts an
/// output as it is written, and its integrity tag is recorded in `outputTags` when it is closed.
/// A name the function did not declare is an error that lists the names it did declare.
public final class FunctionRuntime: Sendable {
    /// The staged inputs by name.
    public let inputs: [String: StagedFile]
    /// The staged outputs by name.
    public let outputs: [String: StagedFile]
    /// Whether an output may be staged with the `raw` scheme (local runs only: an output given
    /// to a data owner must be encrypted).
    public let allowsPlaintextOutputs: Bool
    /// The limits of the run (memory, deadline, CPU time).
    public let limits: FunctionLimits
    /// What the function may reach over the network (the sandbox's `network` rules; none by default).
    public let network: NetworkConfig
    private let state = Mutex(State())

    private struct State {
        var created: Set<String> = []
        var tags: [String: [UInt8]] = [:]
        var log: [UInt8] = []
        var logTruncated = false
        var isCanceled = false
        var cancelHandler: (@Sendable () -> Void)?
        var engine: EngineKind?
    }

    /// The most bytes of log a run keeps; what comes after is dropped, and the log says so.
    public static let maxLogBytes = 1 << 20

    /// A runtime over staged files. Outputs staged as `raw` are refused unless
    /// `allowPlaintextOutputs` is set.
    public init(
        inputs: [String: StagedFile], outputs: [String: StagedFile], allowPlaintextOutputs: Bool = false, limits: FunctionLimits = .standard,
        network: NetworkConfig = .none
    ) {
        self.inputs = inputs
        self.outputs = outputs
        self.allowsPlaintextOutputs = allowPlaintextOutputs
        self.limits = limits
        self.network = network
    }

    /// A runtime over plaintext files (input and output name → host path), for local runs and tests.
    public convenience init(plaintextInputs: [String: String] = [:], plaintextOutputs: [String: String] = [:], limits: FunctionLimits = .standard) {
        self.init(
            inputs: plaintextInputs.mapValues(StagedFile.plaintext),
            outputs: plaintextOutputs.mapValues(StagedFile.plaintext),
            allowPlaintextOutputs: true, limits: limits)
    }

    // MARK: Log

    /// Appends to the run's log (a function's standard output and error, the executor's notes).
    public func appendLog(_ bytes: some Collection<UInt8>) {
        state.withLock { state in
            let room = Self.maxLogBytes - state.log.count
            if bytes.count <= room {
                state.log.append(contentsOf: bytes)
            } else {
                state.log.append(contentsOf: bytes.prefix(max(0, room)))
                state.logTruncated = true
            }
        }
    }

    /// The run's log so far (invalid UTF-8 repaired), with a last line saying when it was cut.
    public var log: String {
        state.withLock { state in
            let text = String(decoding: state.log, as: UTF8.self)
            return state.logTruncated ? text + "\n[log truncated at \(Self.maxLogBytes) bytes]\n" : text
        }
    }

    // MARK: Engine

    /// The instruction engine the function ran on (nil for native builtins).
    public var engine: EngineKind? { state.withLock { $0.engine } }

    func noteEngine(_ engine: EngineKind) { state.withLock { $0.engine = engine } }

    // MARK: Cancel

    /// Cancels the run: the function's process is killed and the run fails with "canceled".
    /// Safe from any thread, before or during the run.
    public func cancel() {
        let handler = state.withLock { state -> (@Sendable () -> Void)? in
            state.isCanceled = true
            return state.cancelHandler
        }
        handler?()
    }

    /// Whether ``cancel()`` was called.
    public var isCanceled: Bool { state.withLock { $0.isCanceled } }

    /// Runs `handler` on ``cancel()`` while `body` runs (at once if the run is already canceled).
    func whileCancelable<T>(_ handler: @escaping @Sendable () -> Void, _ body: () throws(ExecutorError) -> T) throws(ExecutorError) -> T {
        let canceled = state.withLock { state -> Bool in
            state.cancelHandler = handler
            return state.isCanceled
        }
        if canceled { handler() }
        defer { state.withLock { $0.cancelHandler = nil } }
        return try body()
    }

    /// Opens the input `name` for reading; it can be opened again to read it once more.
    public func openInput(_ name: String) throws(ExecutorError) -> FunctionInput {
        guard let file = inputs[name] else { throw .unknownInput(name: name, declared: inputs.keys.sorted()) }
        return try FunctionInput(name: name, file: file)
    }

    /// Creates the output `name` (once). It appears at its staged path, complete, when closed.
    public func createOutput(_ name: String) throws(ExecutorError) -> FunctionOutput {
        guard let file = outputs[name] else { throw .unknownOutput(name: name, declared: outputs.keys.sorted()) }
        guard state.withLock({ $0.created.insert(name).inserted }) else { throw .outputAlreadyCreated(name) }
        do throws(ExecutorError) {
            return try FunctionOutput(name: name, file: file, allowRaw: allowsPlaintextOutputs) { [self] tag in
                state.withLock { $0.tags[name] = tag }
            }
        } catch {
            _ = state.withLock { $0.created.remove(name) }
            throw error
        }
    }

    /// The integrity tag of every output closed so far, by name (empty for a `raw` output).
    public var outputTags: [String: [UInt8]] {
        state.withLock { $0.tags }
    }
}
