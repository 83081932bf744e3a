import CloisterAPI
import Executors
import Foundation
import Logging
import ProtectedFiles

/// The checks that find a mistake when a function, a file or a task is registered, rather than
/// when a worker runs the task after every party approved it: a payload that can never run, a
/// builtin declared without what it reads, a key that does not open its file, a tag of the wrong
/// size, an owner who cannot own data, an output URL that names an existing file.
///
/// Each refusal is a 400 naming the field. The services call these at the entry of their
/// methods; what a worker checks again when the task runs (the file may change in between)
/// stays where it is.
struct EarlyValidation: Sendable {
    /// The executors that check payloads (``FunctionExecutor/validate(name:payload:limits:)``).
    let registry: ExecutorRegistry
    /// The limits of a payload check (a Python script is compiled in a sandbox).
    let limits: FunctionLimits
    let logger: Logger

    /// The largest aes-gcm input whose key and tag are checked by reading it whole when it is
    /// registered (the GCM tag sits at its end); a larger one has its tag compared only.
    static let maxCheckedGCMBytes: UInt64 = 64 << 20

    // MARK: Functions

    /// A function's payload can run, and a builtin is declared with every argument and file it reads.
    func function(
        type: ExecutorType, name: String, payload: [UInt8], arguments: [FunctionArgumentSpec], inputs: [FunctionFileSpec],
        outputs: [FunctionFileSpec], checkPayload: Bool
    ) async throws {
        if type == .builtin, let signature = BuiltinExecutor.signature(of: name) {
            try Self.builtin(name, signature, arguments: arguments, inputs: inputs, outputs: outputs)
        }
        guard checkPayload else { return }
        let executor: any FunctionExecutor
        do throws(ExecutorError) {
            executor = try registry.executor(type: type, executor: Self.executor(of: type))
        } catch {
            logger.warning("function \(name): no executor to check its payload with: \(error)")
            return
        }
        let limits = limits
        let verdict: ExecutorError? = try await runOnThread(name: "cloister-payload-check") {
            do throws(ExecutorError) {
                try executor.validate(name: name, payload: payload, limits: limits)
                return nil
            } catch {
                return error
            }
        }
        switch verdict {
        case nil:
            return
        case .badPayload(let reason)?:
            throw PlatformError.field("payload", reason)
        case .unknownFunction?:
            throw PlatformError.field("name", "no builtin function \(Validation.quoted(name)); the builtins are \(BuiltinExecutor.functionNames.joined(separator: ", "))")
        case let other?:
            // The check itself could not run (no Python runtime on this server, say): the
            // worker will say so when a task runs; registering is not refused for it.
            logger.warning("function \(name): its payload could not be checked: \(other)")
        }
    }

    /// The executor a function of `type` runs on.
    static func executor(of type: ExecutorType) -> Executor {
        switch type {
        case .builtin: return .builtin
        case .python: return .cpython
        case .wasm: return .wasmkit
        }
    }

    private static func builtin(
        _ name: String, _ signature: BuiltinSignature, arguments: [FunctionArgumentSpec], inputs: [FunctionFileSpec], outputs: [FunctionFileSpec]
    ) throws(PlatformError) {
        let declared = Set(arguments.map(\.key))
        if let missing = signature.arguments.first(where: { !declared.contains($0) }) {
            throw .field(
                "arguments", "\(name) reads the argument \(missing): declare it (with a default, or for each task to set); it reads \(signature.arguments.joined(separator: ", "))")
        }
        for (field, needed, given) in [("inputs", signature.inputs, inputs), ("outputs", signature.outputs, outputs)] {
            guard let needed else { continue }
            if let missing = needed.first(where: { name in !given.contains { $0.name == name && !$0.optional } }) {
                throw .field(field, "\(name) reads \(field.dropLast()) \(missing): declare it (not optional); it reads \(needed.joined(separator: ", "))")
            }
        }
    }

    // MARK: Files

    /// A tag has the size of its scheme's tags: 16 bytes for aes-gcm, 32 for cloister-file.
    static func tag(_ bytes: [UInt8], scheme: Scheme) throws(PlatformError) {
        let size = scheme.isChunked ? 32 : 16
        guard bytes.count == size else {
            throw .field("tag", "a \(scheme.rawValue) tag is \(size) bytes (\(size * 2) hex digits), got \(bytes.count)")
        }
    }

    /// An input's bytes open under its key, and carry its tag when one is given. A `file://`
    /// input must exist as a regular file; the bytes of a `data:` URL are checked the same way.
    /// (An http(s) input is fetched only when a task runs; its key and tag are checked then.)
    func input(_ location: DataLocation, scheme: Scheme, key: [UInt8], iv: [UInt8]?, tag: [UInt8]?) async throws {
        guard scheme != .raw else { return }
        let source: @Sendable () throws -> any RandomAccessInput
        switch location {
        case .http:
            return
        case .inline(let bytes):
            source = { MemoryFile(bytes) }
        case .file(let path):
            var info = stat()
            guard stat(path, &info) == 0 else { throw PlatformError.field("url", "no file at \(path): put the encrypted file there first") }
            guard info.st_mode & S_IFMT == S_IFREG else { throw PlatformError.field("url", "\(path) is not a regular file") }
            source = { try HostFile.openForReading(path) }
        }
        let failure: PlatformError? = try await runOnThread(name: "cloister-input-check") {
            do {
                try Self.check(try source(), scheme: scheme, key: key, iv: iv, tag: tag)
                return nil
            } catch let error as PlatformError {
                return error
            } catch {
                return .field("url", "the file at the URL cannot be read")
            }
        }
        if let failure { throw failure }
    }

    /// Reads enough of `input` to know the key opens it: the first chunk of a cloister-file (and
    /// every chunk's tag when a tag is given), all of an aes-gcm file up to
    /// ``maxCheckedGCMBytes``.
    private static func check(_ input: any RandomAccessInput, scheme: Scheme, key: [UInt8], iv: [UInt8]?, tag: [UInt8]?) throws(PlatformError) {
        let wrongKey = "does not open with this key (a wrong key\(scheme.takesIV ? " or IV" : ""), or the file is not the one encrypted with it)"
        do {
            let reader = try ProtectedFileReader(scheme: scheme, key: key, iv: iv, input: input)
            if scheme.isChunked {
                _ = try reader.readChunk(at: 0)
                if let tag, try chunkedTag(input, reader: reader) != tag {
                    throw PlatformError.field("tag", "is not the tag of the file at the URL (cloister encrypt --print-tag prints it)")
                }
            } else if try input.size() <= maxCheckedGCMBytes {
                while try reader.read() != nil {}
                if let tag, reader.tag != tag {
                    throw PlatformError.field("tag", "is not the tag of the file at the URL (cloister encrypt --print-tag prints it)")
                }
            } else if let tag {
                let size = try input.size()
                if try read(input, at: size - 16, count: 16) != tag {
                    throw PlatformError.field("tag", "is not the tag of the file at the URL (cloister encrypt --print-tag prints it)")
                }
            }
        } catch let error as PlatformError {
            throw error
        } catch let error as ProtectedFileError {
            switch error {
            case .authenticationFailed: throw .field("key", "the file at the URL \(wrongKey)")
            case .wrongScheme(_, let found): throw .field("scheme", "the file at the URL is \(found.rawValue), not \(scheme.rawValue)")
            case .badHeader, .truncated, .unsupportedVersion: throw .field("url", "the file at the URL is not a \(scheme.rawValue) file: \(error)")
            case .io: throw .field("url", "the file at the URL cannot be read")
            default: throw .field("url", "the file at the URL cannot be opened as \(scheme.rawValue): \(error)")
            }
        } catch {
            throw .field("url", "the file at the URL cannot be read")
        }
    }

    /// The tag of a cloister-file, from its header and the tag at the end of each chunk record.
    private static func chunkedTag(_ input: any RandomAccessInput, reader: ProtectedFileReader) throws -> [UInt8] {
        guard let header = reader.header, let layout = reader.layout else { return [] }
        let headerBytes = try read(input, at: 0, count: ChunkedFileHeader.size)
        var tags: [[UInt8]] = []
        tags.reserveCapacity(Int(layout.chunkCount))
        for index in 0..<layout.chunkCount {
            let size = index == layout.chunkCount - 1 ? layout.lastRecordSize : header.recordSize
            tags.append(try read(input, at: header.recordOffset(index) + UInt64(size - 16), count: 16))
        }
        return ChunkedFileCipher.fileTag(header: headerBytes, chunkTags: tags)
    }

    /// `count` bytes at `offset` (fewer at the end of the input).
    private static func read(_ input: any RandomAccessInput, at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let read = try bytes.withUnsafeMutableBytes { try input.read(at: offset + UInt64(done), into: UnsafeMutableRawBufferPointer(rebasing: $0[done...])) }
            if read == 0 { break }
            done += read
        }
        return Array(bytes[..<done])
    }

    /// An output written to `path` finds no file there (an output never replaces one) and a
    /// folder to go in.
    static func output(_ path: String) throws(PlatformError) {
        guard !FileManager.default.fileExists(atPath: path) else {
            throw .field("url", "\(path) exists already; an output never replaces a file: name a new file")
        }
        var isFolder: ObjCBool = false
        let folder = (path as NSString).deletingLastPathComponent
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isFolder), isFolder.boolValue else {
            throw .field("url", "there is no folder \(folder) for the output to go in")
        }
    }

    // MARK: Owners

    /// Every id names a user who can own data (a `DataOwner-*` or `DataOwnerManager-*` that was
    /// not deleted): a task or output naming anyone else could never get its files. `field`
    /// names the field of each id. Read in the caller's transaction.
    static func dataOwners(_ ids: [String], in users: RecordTable<UserRecord>, field: (String) -> String) async throws {
        for id in ids {
            guard let user = try await users.get(id), !user.deleted, user.parsedRole.usesData else {
                throw PlatformError.field(field(id), "\(id) is not a user who can own data (a DataOwner or DataOwnerManager): check the spelling")
            }
        }
    }
}
