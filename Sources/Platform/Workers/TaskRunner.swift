import AsyncHTTPClient
import CloisterAPI
import Executors
import Crypto
import Foundation
import LibOS
import Logging
import NIOCore
import ProtectedFiles

/// Runs one claimed task: fetches and checks its inputs, stages its outputs, runs the function
/// through the executor registry and moves the outputs to where their owners registered them.
///
/// Nothing lands on the worker's disk in the clear: every staged file is 0600 in the task's
/// folder (itself in the 0700 data folder), encrypted inputs are copied as they are, and a `data:`
/// input, which is plaintext, is encrypted on the way in under a key of this run alone.
///
/// Every task participant reads a failed task's reason, so the reasons this runner gives name an
/// input or output, never where it is: no URL (which may carry credentials or a signature), no
/// host path, no status code of a server (which would make the worker an oracle for probing
/// internal services). The operator's log has the cause.
struct TaskRunner: Sendable {
    let database: PlatformDatabase
    let functions: FunctionService
    let data: DataService
    let registry: ExecutorRegistry
    let limits: FunctionLimits
    /// What this worker's operator lets functions reach: a task's approved network use is checked
    /// against it again here (the server that took the function may have allowed more).
    let network: FunctionNetworkPolicy
    let workFolder: String
    let logger: Logger
    /// The largest input a worker downloads over HTTP.
    static let maxDownloadBytes = 1 << 30

    /// A run's failure: the reason recorded on the task, for every participant to read.
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Prepares the run; `execute` then runs it. The runtime is returned first so that a cancel
    /// can reach it. A canceled Swift task stops a download or a copy under way. `inputHashes`: the
    /// SHA-256 of each encrypted input as fetched, for the receipt (none for an input in the clear,
    /// whose hash would tell its content to whoever can guess it).
    func prepare(_ task: TaskRecord, folder: String) async throws -> (
        runtime: FunctionRuntime, run: @Sendable () throws -> String, inputHashes: [String: String]
    ) {
        guard let function = try await database.record(FunctionRecord.self, task.functionId),
            let payload = try await functions.payload(of: task.functionId)
        else { throw Failure(description: "function \(task.functionId) was deleted") }
        guard function.payloadSha256 == task.payloadSha256, function.name == task.functionName,
            Hex.encode(SHA256.hash(data: payload)) == task.payloadSha256
        else { throw Failure(description: "function \(task.functionId) changed after the task was created; create a new task") }
        let networkRules: NetworkConfig
        do throws(PlatformError) { networkRules = try network.rules(for: task.network ?? FunctionNetwork()) } catch {
            throw Failure(description: "the task's approved network use is not allowed on this worker: \(error.description)")
        }
        try PrivateFiles.makeFolder(folder)
        var inputs: [String: StagedFile] = [:]
        var inputHashes: [String: String] = [:]
        for (name, fileId) in task.assignedInputs.sorted(by: { $0.key < $1.key }) {
            guard let file = try await database.record(FileRecord.self, fileId) else {
                throw Failure(description: "input \(name): file \(fileId) was deleted")
            }
            let staged = try await stageInput(name, file, folder: folder, task: task.id)
            inputs[name] = staged
            if Scheme(rawValue: file.scheme) != .raw { inputHashes[name] = try RunEvidence.sha256(ofFile: staged.path) }
        }
        var outputs: [String: StagedFile] = [:]
        for (name, fileId) in task.assignedOutputs {
            guard let file = try await database.record(FileRecord.self, fileId) else {
                throw Failure(description: "output \(name): file \(fileId) was deleted")
            }
            let key = try await key(of: file, "output \(name)")
            let iv = try file.iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") }
            if let iv, Scheme(rawValue: file.scheme)?.takesIV == true {
                // AES-GCM under a (key, IV) pair that another file holds would let anyone who has
                // both ciphertexts recover the plaintexts: refuse to encrypt.
                guard try await data.keys.claim(data.keys.fingerprint(key: key, iv: iv), for: file.id) == file.id else {
                    throw Failure(
                        description: "output \(name): its key and IV were used for another file on this platform; register the output again with a fresh IV")
                }
            }
            outputs[name] = StagedFile(path: folder + "/output-" + name, scheme: Scheme(rawValue: file.scheme)!, key: key, iv: iv)
        }
        let runtime = FunctionRuntime(inputs: inputs, outputs: outputs, limits: limits, network: networkRules)
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
        return (runtime, { try executor.execute(name: name, arguments: functionArguments, payload: payload, runtime: runtime) }, inputHashes)
    }

    /// The data key of `file`, unwrapped for this run.
    private func key(of file: FileRecord, _ what: String) async throws -> [UInt8] {
        do {
            return try await data.keys.key(of: file)
        } catch {
            logger.error("\(what) (\(file.id)): \(error)")
            throw Failure(description: "\(what): its key cannot be unwrapped on this worker")
        }
    }

    /// Puts input `name` where the executor reads it, after checking its integrity tag.
    private func stageInput(_ name: String, _ file: FileRecord, folder: String, task: String) async throws -> StagedFile {
        let path = folder + "/input-" + name
        let scheme = Scheme(rawValue: file.scheme)!
        let key = try await key(of: file, "input \(name)")
        let iv = try file.iv.map { text throws(PlatformError) in try Validation.hex(text, field: "iv") }
        guard let url = file.url else {
            // A kept output chained into an input: in place first, if its worker stopped before moving it.
            if let source = file.sourceOutput, let output = try await database.record(FileRecord.self, source) {
                data.delivery.settle(output, destination: try data.destination(of: output))
            }
            try copyRegularFile(try data.destination(of: file), to: path, name: name, task: task)
            return try verified(StagedFile(path: path, scheme: scheme, key: key, iv: iv), tag: file.tag, name: name)
        }
        let location: DataLocation
        do {
            location = try DataLocation.parse(url, roots: data.roots, field: "url")
        } catch {
            logger.warning("task \(task) input \(name): its URL no longer parses: \(error)")
            throw Failure(description: "input \(name): its location is no longer valid on this server")
        }
        switch location {
        case .file(let source):
            try copyRegularFile(source, to: path, name: name, task: task)
        case .inline(let bytes) where scheme == .raw:
            // Plaintext given in the registration: encrypted under a key of this run alone.
            let runKey = SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) }
            try writeStaged(path, name: name, task: task) { output in
                let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: runKey, output: output)
                try writer.write(bytes)
                _ = try writer.finish()
            }
            return StagedFile(path: path, scheme: .cloisterFile256, key: runKey)
        case .inline(let bytes):
            // Ciphertext given in the registration: staged as it is.
            try writeStaged(path, name: name, task: task) { output in try bytes.withUnsafeBytes { try output.write($0) } }
        case .http(let source):
            try await download(source, to: path, name: name, task: task)
        }
        return try verified(StagedFile(path: path, scheme: scheme, key: key, iv: iv), tag: file.tag, name: name)
    }

    /// Writes a new 0600 file at `path` with `body`.
    private func writeStaged(_ path: String, name: String, task: String, _ body: (HostFile) throws -> Void) throws {
        do {
            try body(try HostFile.create(path))
        } catch {
            logger.error("task \(task) input \(name): could not stage a data: input: \(error)")
            throw Failure(description: "input \(name): could not be staged")
        }
    }

    /// Copies the regular file at `source` (never a folder, a device or a FIFO) to a new 0600
    /// file at `path`, in pieces, stopping when the Swift task is canceled.
    private func copyRegularFile(_ source: String, to path: String, name: String, task: String) throws {
        do {
            let fd = open(source, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
            guard fd >= 0 else { throw ProtectedFileError.io("open: \(String(cString: strerror(errno)))") }
            let input = HostFile(fd: fd, path: source, closeOnDeinit: true)
            var info = stat()
            guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else { throw ProtectedFileError.io("not a regular file") }
            let output = try HostFile.create(path)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            var offset: UInt64 = 0
            while true {
                try Task.checkCancellation()
                let count = try buffer.withUnsafeMutableBytes { try input.read(at: offset, into: $0) }
                if count == 0 { break }
                try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                offset += UInt64(count)
            }
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            logger.warning("task \(task) input \(name): cannot copy \(source): \(error)")
            throw Failure(description: "input \(name): cannot be read")
        }
    }

    /// `file`, after reading it through (which authenticates it) and comparing its tag with the registered one.
    private func verified(_ file: StagedFile, tag: String?, name: String) throws -> StagedFile {
        guard let tag else { return file }
        do {
            let reader = try ProtectedFileReader(scheme: file.scheme, key: file.key, iv: file.iv, input: try HostFile.openForReading(file.path))
            while try reader.read() != nil {}
            guard reader.tag.map(Hex.encode) == tag else {
                throw Failure(description: "input \(name): its integrity tag is not the registered one")
            }
        } catch let failure as Failure {
            throw failure
        } catch let error as ProtectedFileError {
            if case .io = error { throw Failure(description: "input \(name): cannot be read") }
            throw Failure(description: "input \(name): \(error)")
        } catch {
            throw Failure(description: "input \(name): cannot be read")
        }
        return file
    }

    /// Downloads `url` to a new 0600 file at `path`, from an address the operator allows, with
    /// short connect and read timeouts, no retried connection and no redirect followed.
    private func download(_ url: URL, to path: String, name: String, task: String) async throws {
        let failure = Failure(description: "input \(name): could not be fetched")
        let host = url.host ?? ""
        let addresses = try await runOnThread(name: "cloister-resolve") { HTTPInputPolicy.resolve(host) }
        guard let first = addresses.first else {
            logger.warning("task \(task) input \(name): \(host) does not resolve")
            throw failure
        }
        for address in addresses {
            if let range = data.httpInputs.refusal(of: address) {
                logger.warning("task \(task) input \(name): \(host) is \(address), a \(range) address; not fetched")
                throw failure
            }
        }
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(30)))
        configuration.connectionPool.retryConnectionEstablishment = false
        // Connect to the address checked, not to whatever the name resolves to next.
        if IPAddress(parsing: host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host) == nil {
            configuration.dnsOverride = [host: first.description]
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            try await fetch(url, with: client, to: path)
            try await client.shutdown()
        } catch {
            try? await client.shutdown()
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            if let failure = error as? Failure { throw failure }
            logger.warning("task \(task) input \(name): fetching from \(host) failed: \(error)")
            throw failure
        }
    }

    private func fetch(_ url: URL, with client: HTTPClient, to path: String) async throws {
        let response = try await client.execute(HTTPClientRequest(url: url.absoluteString), timeout: .seconds(300))
        guard response.status == .ok else { throw HTTPStatusError(status: Int(response.status.code)) }
        let output = try HostFile.create(path)
        var total = 0
        for try await buffer in response.body {
            total += buffer.readableBytes
            guard total <= Self.maxDownloadBytes else { throw HTTPStatusError(status: 0, detail: "larger than \(Self.maxDownloadBytes) bytes") }
            try buffer.withUnsafeReadableBytes { try output.write($0) }
        }
    }

    /// A download that answered something other than 200 (for the operator's log only).
    struct HTTPStatusError: Error, CustomStringConvertible {
        let status: Int
        var detail = ""
        var description: String { detail.isEmpty ? "answered \(status)" : detail }
    }

    /// The outputs the run wrote, ready for delivery (`OutputDelivery`): each one's tag, and its
    /// staged file made 0600 and moved into the attempt's pending folder. An output whose
    /// destination holds a file already fails the run: nothing is ever replaced. `hashes`: the
    /// SHA-256 of each encrypted output, for the receipt.
    func stageOutputs(_ task: TaskRecord, runtime: FunctionRuntime) async throws -> (
        tags: [String: String], delivery: [String: String], hashes: [String: String]
    ) {
        var tags: [String: String] = [:]
        var hashes: [String: String] = [:]
        var staged: [String: String] = [:]
        for (name, tag) in runtime.outputTags {
            guard let fileId = task.assignedOutputs[name], let file = try await database.record(FileRecord.self, fileId),
                let output = runtime.outputs[name]
            else {
                continue
            }
            let destination = try data.destination(of: file)
            guard access(destination, F_OK) != 0 else {
                logger.warning("task \(task.id) output \(name): \(destination) exists already")
                throw Failure(description: "output \(name): a file exists already where it goes; nothing was replaced")
            }
            chmod(output.path, 0o600)
            staged[name] = output.path
            tags[name] = Hex.encode(tag)
            if Scheme(rawValue: file.scheme) != .raw { hashes[name] = try RunEvidence.sha256(ofFile: output.path) }
        }
        do {
            return (tags, try data.delivery.stage(staged, task: task.id, attempt: task.attempts), hashes)
        } catch {
            logger.error("task \(task.id): could not stage its outputs for delivery: \(error)")
            throw Failure(description: "the worker could not store the outputs (an internal error; the operator's log has the cause)")
        }
    }

    /// Finishes or clears the output deliveries left pending by workers that stopped: a finished
    /// attempt's outputs are moved into place; the folders of attempts that will never commit
    /// (canceled, failed, taken over) are removed. An attempt still running is left alone, and so
    /// is every task of `live` (this process's workers still run or deliver it themselves).
    func sweepDeliveries(except live: Set<String> = []) async throws {
        let delivery = data.delivery
        for folder in delivery.pendingFolders() where !live.contains(folder.task) {
            let task = try await database.record(TaskRecord.self, folder.task)
            if let task, task.state == .running, task.attempts == folder.attempt { continue }
            if let task, task.state == .finished, task.attempts == folder.attempt {
                for fileId in task.assignedOutputs.values.sorted() {
                    guard let file = try await database.record(FileRecord.self, fileId),
                        file.deliveredFrom?.hasPrefix(folder.name + "/") == true
                    else { continue }
                    delivery.settle(file, destination: try data.destination(of: file))
                }
                rmdir(delivery.pendingRoot + "/" + folder.name)
                continue
            }
            delivery.discard(task: folder.task, attempt: folder.attempt)
        }
    }

    /// The reason recorded for a run that threw `error`: what participants may read.
    func reason(for error: any Error, task: String) -> String {
        switch error {
        case let failure as Failure:
            return failure.description
        case let error as ExecutorError:
            if case .file(let name, .io) = error {
                logger.warning("task \(task): \(error)")
                return "file \"\(name)\": an I/O error on the worker"
            }
            return error.description
        case let error as PlatformError:
            return error.description
        default:
            logger.error("task \(task): \(error)")
            return "the worker could not run the task (an internal error; the operator's log has the cause)"
        }
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
