import ArgumentParser
import Foundation
import ProtectedFiles

/// `cloister encrypt`: plaintext file → protected file.
struct EncryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encrypt",
        abstract: "Encrypt a file with a protected-file scheme.",
        discussion: """
            Schemes: aes-gcm-128, aes-gcm-256 (whole-file AES-GCM, needs --iv, Teaclave-compatible), \
            cloister-file-128, cloister-file-256 (chunked, streaming; see docs/file-format.md). \
            raw is accepted by decrypt only. The output is written to a temporary file beside it and \
            renamed at the end, so a failure leaves no output. An aes-gcm key and IV encrypt one \
            file only: the pairs used are recorded (hashed) in ~/.config/cloister/aes-gcm-pairs \
            and a second encryption under one is refused. Errors exit 1 with one line.
            """
    )

    @OptionGroup var options: ProtectedFileOptions

    func run() throws {
        try options.perform(encrypting: true)
    }
}

/// What `cloister encrypt` and `cloister decrypt` share: scheme, key, IV, paths.
struct ProtectedFileOptions: ParsableArguments {
    @Option(name: .long, help: "aes-gcm-128, aes-gcm-256, cloister-file-128, cloister-file-256 or raw (decrypt only).")
    var scheme: String

    @Option(name: .long, help: "The key in hex (16 or 32 bytes per the scheme).")
    var key: String?

    @Option(name: .customLong("key-file"), help: "A file holding the key: hex text, `cloister keygen` output, or the raw key bytes.")
    var keyFile: String?

    @Option(name: .long, help: "The 12-byte IV in hex (aes-gcm schemes only).")
    var iv: String?

    @Option(name: .customShort("i"), help: "The input file.")
    var input: String

    @Option(name: .customShort("o"), help: "The output file.")
    var output: String

    @Flag(name: .customLong("print-tag"), help: "Print the file's integrity tag in hex on stdout.")
    var printTag = false

    /// Runs the operation; any error is one line on stderr and exit status 1.
    func perform(encrypting: Bool) throws {
        do {
            let scheme = try Scheme(parsing: self.scheme)
            let (keyBytes, ivBytes) = try resolveKey(scheme: scheme)
            let size = (try? FileManager.default.attributesOfItem(atPath: input)[.size] as? UInt64) ?? 0
            let bar = ProgressBar(label: encrypting ? "encrypt" : "decrypt", total: size)
            let tag: [UInt8]
            if encrypting {
                if scheme.takesIV, let ivBytes {
                    try scheme.validate(key: keyBytes, iv: ivBytes)
                    try KeyIVJournal(path: KeyIVJournal.defaultPath).claim(key: keyBytes, iv: ivBytes)
                }
                tag = try ProtectedFileTool.encrypt(input: input, output: output, scheme: scheme, key: keyBytes, iv: ivBytes, progress: bar?.update)
            } else {
                tag = try ProtectedFileTool.decrypt(input: input, output: output, scheme: scheme, key: keyBytes, iv: ivBytes, progress: bar?.update)
            }
            bar?.finish()
            if printTag { print(Hex.encode(tag)) }
        } catch let error as ProtectedFileError {
            FileHandle.standardError.write(Data("cloister: \(error.description)\n".utf8))
            throw ExitCode(1)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("cloister: \(error.message)\n".utf8))
            throw ExitCode(1)
        }
    }

    /// The key and IV from --key / --key-file / --iv.
    func resolveKey(scheme: Scheme) throws -> ([UInt8], [UInt8]?) {
        var ivText = iv
        let keyBytes: [UInt8]
        switch (key, keyFile) {
        case (.some, .some):
            throw CLIError(message: "give either --key or --key-file, not both")
        case (nil, nil):
            if scheme == .raw { return ([], nil) }
            throw CLIError(message: "a key is needed: --key HEX or --key-file PATH")
        case (let hex?, nil):
            keyBytes = try Hex.decode(hex)
        case (nil, let path?):
            guard let data = FileManager.default.contents(atPath: path) else { throw CLIError(message: "cannot read key file \(path)") }
            let parsed = KeyFile.parse([UInt8](data), keySize: scheme.keySize)
            guard let parsedKey = parsed.key else { throw CLIError(message: "key file \(path) holds no key for \(scheme.rawValue)") }
            keyBytes = parsedKey
            if ivText == nil, let fileIV = parsed.iv, scheme.takesIV { ivText = fileIV }
        }
        let ivBytes = try ivText.map { try Hex.decode($0) }
        return (keyBytes, ivBytes)
    }
}

/// A one-line error of the CLI's own (not from the crypto layer).
struct CLIError: Error {
    var message: String
}

/// Reads key files: `cloister keygen` output (`key: HEX` and `iv: HEX` lines), bare hex, or the
/// raw key bytes.
enum KeyFile {
    static func parse(_ bytes: [UInt8], keySize: Int) -> (key: [UInt8]?, iv: String?) {
        if let text = String(bytes: bytes, encoding: .utf8) {
            var key: [UInt8]?
            var iv: String?
            for line in text.split(whereSeparator: \.isNewline) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("key:") {
                    key = try? Hex.decode(String(trimmed.dropFirst(4)))
                } else if trimmed.hasPrefix("iv:") {
                    iv = String(trimmed.dropFirst(3)).trimmingCharacters(in: .whitespaces)
                } else if key == nil, let decoded = try? Hex.decode(trimmed), !decoded.isEmpty {
                    key = decoded
                }
            }
            if let key { return (key, iv) }
        }
        return bytes.count == keySize ? (bytes, nil) : (nil, nil)
    }
}

/// A progress bar on stderr, only when stderr is a terminal and the file is over 1 MiB.
final class ProgressBar {
    private let label: String
    private let total: UInt64
    private var shown = -1

    init?(label: String, total: UInt64) {
        guard isatty(2) == 1, total > 1 << 20 else { return nil }
        self.label = label
        self.total = total
    }

    func update(_ done: UInt64, _ total: UInt64) {
        let percent = Int(min(100, done * 100 / max(1, total)))
        guard percent != shown else { return }
        shown = percent
        let width = 40
        let filled = width * percent / 100
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(percent)% of \(total >> 20) MiB".utf8))
    }

    func finish() {
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
