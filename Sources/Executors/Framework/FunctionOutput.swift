#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import ProtectedFiles

/// An output of a running function, encrypted with its owner's key as it is written.
///
/// The bytes go to `<path>.partial`; `close()` finishes the file, moves it to its staged path and
/// records its tag in the runtime. An output dropped without `close()` (the function failed)
/// leaves nothing behind.
public final class FunctionOutput {
    /// The name the function declared.
    public let name: String
    private let path: String
    private let partialPath: String
    private let file: HostFile
    private var writer: ProtectedFileWriter?
    private let recordTag: ([UInt8]) -> Void

    init(name: String, file staged: StagedFile, allowRaw: Bool, recordTag: @escaping ([UInt8]) -> Void) throws(ExecutorError) {
        self.name = name
        self.recordTag = recordTag
        path = staged.path
        partialPath = staged.path + ".partial"
        unlink(partialPath)
        let partialPath = partialPath
        let file = try ExecutorError.onFile(name) { try HostFile.create(partialPath) }
        self.file = file
        do throws(ExecutorError) {
            writer = try ExecutorError.onFile(name) {
                try ProtectedFileWriter(scheme: staged.scheme, key: staged.key, iv: staged.iv, output: file, allowRaw: allowRaw)
            }
        } catch {
            unlink(partialPath)
            throw error
        }
    }

    deinit {
        if writer != nil { unlink(partialPath) }
    }

    /// Appends bytes.
    public func write(_ bytes: [UInt8]) throws(ExecutorError) {
        guard let writer else { throw .outputClosed(name) }
        try ExecutorError.onFile(name) { try writer.write(bytes) }
    }

    /// Appends UTF-8 text.
    public func write(_ text: String) throws(ExecutorError) {
        try write(Array(text.utf8))
    }

    /// Finishes the file, syncs it and moves it into place; its tag goes to the runtime's `outputTags`.
    public func close() throws(ExecutorError) {
        guard let writer else { throw .outputClosed(name) }
        self.writer = nil
        let tag: [UInt8]
        do throws(ExecutorError) {
            tag = try ExecutorError.onFile(name) { () throws -> [UInt8] in
                let tag = try writer.finish()
                try file.sync()
                guard rename(partialPath, path) == 0 else {
                    throw ProtectedFileError.io("cannot move \(partialPath) to \(path): \(String(cString: strerror(errno)))")
                }
                return tag
            }
        } catch {
            unlink(partialPath)
            throw error
        }
        recordTag(tag)
    }
}
