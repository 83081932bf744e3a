import AsyncHTTPClient
import CloisterAPI
import Executors
import Crypto
import Foundation
import NIOCore
import ProtectedFiles

/// Runs one claimed task: fetches and checks its inputs, stages its outputs, runs the function
/// through the executor registry and moves the outputs to where their owners registered them.
struct TaskRunner: Sendable {
    let files: RecordTable<FileRecord>
    let functions: FunctionService
    let data: DataService
    let registry: ExecutorRegistry
    let limits: FunctionLimits
    let workFolder: String
    /// The largest input a worker downloads over HTTP.
    static let maxDownloadBytes = 1 << 30

    /// A run's failure: the reason recorded on the task.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Prepares the run; `execute` then runs it. The runtime is returned first so that a cancel
    /// can reach it.
    func prepare(_ task: TaskRecord, folder: String) async throws -> (runtime: FunctionRuntime, run: @Sendable () throws -> String) {
        guard let function = try await functions.functions.get(task.functionId),
            let payload = try await functions.payload(of: task.functionId)
        else { throw Failure(description: "function \(task.functionId) was deleted") }
        guard function.payloadSha256 == task.payloadSha256, function.name == task.functionName,
            Hex.encode(SHA256.hash(data: payload)) == task.payloadSha256
        else { throw Failure(description: "function \(task.functionId) changed after the task was created; create a new task") }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var inputs: [String: StagedFile] = [:]
        for (name, fileId) in task.assignedInputs.sorted(by: { $0.key < $1.key }) {
            guard let file = try await files.get(fileId) else { throw Failure(description: "input \(name): file \(fileId) was deleted") }
            inputs[name] = try await stageInput(name, file, folder: folder)
        }
        var outputs: [String: StagedFile] = [:]
        for (name, fileId) in task.assignedOutputs {
            guard let file = try await files.get(fileId) else { throw Failure(description: "output \(name): file \(fileId) was deleted") }
            outputs[name] = StagedFile(
                path: folder + "/output-" + name, scheme: Scheme(rawValue: file.scheme)!, key: try Validation.hex(file.key, field: "key"),
                iv: try file.iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") })
        }
        let runtime = FunctionRuntime(inputs: inputs, outputs: outputs, limits: limits)
        let executor: any FunctionExecutor
        do {
            executor = try registry.executor(type: ExecutorType(parsing: task.executorType), executor: Executor(parsing: task.executor))
        } catch {
            throw Failure(description: error.description)
        }
        var arguments: [String: JSONValue] = [:]
        for (key, value) in task.functionArguments { arguments[key] = .string(value) }
        let functionArguments = FunctionArguments(arguments)
        let name = function.name
        return (runtime, { try executor.execute(name: name, arguments: functionArguments, payload: payload, runtime: runtime) })
    }

    /// Puts input `name` where the executor reads it, after checking its integrity tag.
    private func stageInput(_ name: String, _ file: FileRecord, folder: String) async throws -> StagedFile {
        let path: String
        if let url = file.url {
            switch try DataLocation.parse(url, roots: data.roots, field: "url") {
            case .file(let filePath):
                // A copy: the file checked is the file the function reads, whatever happens to the original.
                path = folder + "/input-" + name
                do { try FileManager.default.copyItem(atPath: filePath, toPath: path) } catch {
                    throw Failure(description: "input \(name): \(url) cannot be read")
                }
            case .inline(let bytes):
                path = folder + "/input-" + name
                guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                    throw Failure(description: "input \(name): could not stage it")
                }
            case .http(let source):
                path = folder + "/input-" + name
                try await download(source, to: path, name: name)
            }
        } else {
            path = folder + "/input-" + name
            do { try FileManager.default.copyItem(atPath: try data.destination(of: file), toPath: path) } catch {
                throw Failure(description: "input \(name): the output it was registered from is gone")
            }
        }
        guard FileManager.default.fileExists(atPath: path) else { throw Failure(description: "input \(name): \(file.url ?? file.id) does not exist") }
        let staged = StagedFile(
            path: path, scheme: Scheme(rawValue: file.scheme)!, key: try Validation.hex(file.key, field: "key"),
            iv: try file.iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") })
        if let tag = file.tag { try verify(staged, tag: tag, name: name) }
        return staged
    }

    /// Reads the file through, which authenticates it, and compares its tag with the registered one.
    private func verify(_ file: StagedFile, tag: String, name: String) throws {
        do {
            let reader = try ProtectedFileReader(scheme: file.scheme, key: file.key, iv: file.iv, input: try HostFile.openForReading(file.path))
            while try reader.read() != nil {}
            guard reader.tag.map(Hex.encode) == tag else {
                throw Failure(description: "input \(name): its integrity tag is not the registered one")
            }
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(description: "input \(name): \(error)")
        }
    }

    private func download(_ url: URL, to path: String, name: String) async throws {
        let request = HTTPClientRequest(url: url.absoluteString)
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
        } catch {
            throw Failure(description: "input \(name): could not fetch \(url.absoluteString): \(error)")
        }
        guard response.status == .ok else {
            throw Failure(description: "input \(name): fetching \(url.absoluteString) answered \(response.status.code)")
        }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw Failure(description: "input \(name): could not stage it")
        }
        defer { try? handle.close() }
        var total = 0
        for try await buffer in response.body {
            total += buffer.readableBytes
            guard total <= Self.maxDownloadBytes else {
                throw Failure(description: "input \(name): larger than \(Self.maxDownloadBytes) bytes")
            }
            try handle.write(contentsOf: Data(buffer.readableBytesView))
        }
    }

    /// Moves each written output to its destination; the tags of those that were written.
    func deliverOutputs(_ task: TaskRecord, runtime: FunctionRuntime) async throws -> [String: String] {
        var tags: [String: String] = [:]
        for (name, tag) in runtime.outputTags {
            guard let fileId = task.assignedOutputs[name], let file = try await files.get(fileId), let staged = runtime.outputs[name] else {
                continue
            }
            let destination = try data.destination(of: file)
            try FileManager.default.createDirectory(
                atPath: (destination as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            // link(2) never replaces a file: an output cannot overwrite anything already there.
            guard link(staged.path, destination) == 0 else {
                throw Failure(description: "output \(name): \(file.url ?? destination) already exists; nothing was replaced")
            }
            unlink(staged.path)
            tags[name] = Hex.encode(tag)
        }
        return tags
    }
}

/// Runs `body` on a thread of its own (executors block while the function runs).
func runOnThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread {
            do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
        }
        thread.name = name
        thread.stackSize = 8 << 20
        thread.start()
    }
}
