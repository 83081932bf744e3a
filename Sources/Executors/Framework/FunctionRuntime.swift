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
    private let state = Mutex(State())

    private struct State {
        var created: Set<String> = []
        var tags: [String: [UInt8]] = [:]
    }

    /// A runtime over staged files. Outputs staged as `raw` are refused unless
    /// `allowPlaintextOutputs` is set.
    public init(inputs: [String: StagedFile], outputs: [String: StagedFile], allowPlaintextOutputs: Bool = false) {
        self.inputs = inputs
        self.outputs = outputs
        self.allowsPlaintextOutputs = allowPlaintextOutputs
    }

    /// A runtime over plaintext files (input and output name → host path), for local runs and tests.
    public convenience init(plaintextInputs: [String: String] = [:], plaintextOutputs: [String: String] = [:]) {
        self.init(
            inputs: plaintextInputs.mapValues(StagedFile.plaintext),
            outputs: plaintextOutputs.mapValues(StagedFile.plaintext),
            allowPlaintextOutputs: true)
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
