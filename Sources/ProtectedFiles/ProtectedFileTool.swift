import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// File-to-file encryption and decryption, as `cloister encrypt` and `cloister decrypt` do it.
///
/// Both write to a temporary file beside the output (created exclusively, mode 0600) and rename it
/// onto the output only when everything succeeded — for decryption, only after the whole file
/// authenticated. On any failure the temporary file is removed, so a failed run leaves no output.
public enum ProtectedFileTool {
    /// Called with (bytes of the input processed, input size) as work proceeds.
    public typealias Progress = (UInt64, UInt64) -> Void

    /// Encrypts the plaintext file `input` into `output` with `scheme` (not raw); returns the tag.
    @discardableResult
    public static func encrypt(
        input: String, output: String, scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil,
        chunkSize: Int = ChunkedFileHeader.defaultChunkSize, progress: Progress? = nil
    ) throws -> [UInt8] {
        guard scheme != .raw else { throw ProtectedFileError.rawNotAllowedForOutput }
        try scheme.validate(key: key, iv: iv)
        let source = try HostFile.openForReading(input)
        let total = try source.size()
        return try writeAtomically(output) { sink in
            let writer = try ProtectedFileWriter(scheme: scheme, key: key, iv: iv, chunkSize: chunkSize, output: sink)
            var offset: UInt64 = 0
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            while true {
                let n = try buffer.withUnsafeMutableBytes { try source.read(at: offset, into: $0) }
                if n == 0 { break }
                try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
                offset += UInt64(n)
                progress?(offset, total)
            }
            return try writer.finish()
        }
    }

    /// Decrypts `input`, stored with `scheme` (raw copies), into the plaintext file `output`;
    /// returns the tag. Nothing appears at `output` unless the whole file authenticated.
    @discardableResult
    public static func decrypt(
        input: String, output: String, scheme: Scheme, key: [UInt8], iv: [UInt8]? = nil,
        progress: Progress? = nil
    ) throws -> [UInt8] {
        let source = try HostFile.openForReading(input)
        let reader = try ProtectedFileReader(scheme: scheme, key: key, iv: iv, input: source)
        return try writeAtomically(output) { sink in
            while let piece = try reader.read() {
                try sink.write(piece)
                progress?(reader.storedBytesRead, reader.storedSize)
            }
            progress?(reader.storedSize, reader.storedSize)
            return reader.tag ?? []
        }
    }

    /// Runs `body` against a fresh temporary file beside `path`, then renames it to `path`;
    /// removes the temporary file if anything throws.
    static func writeAtomically<T>(_ path: String, _ body: (HostFile) throws -> T) throws -> T {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = directory + "/." + url.lastPathComponent + ".cloister-partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let file = try HostFile.create(temporary)
        do {
            let result = try body(file)
            try file.sync()
            guard rename(temporary, path) == 0 else {
                throw ProtectedFileError.io("cannot rename onto \(path): \(String(cString: strerror(errno)))")
            }
            return result
        } catch {
            unlink(temporary)
            throw error
        }
    }
}
