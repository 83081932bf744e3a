import ArgumentParser
import Foundation
import ProtectedFiles

/// `cloister keygen`: a random key (and IV for aes-gcm), in hex, readable by its owner only.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a random key (and for aes-gcm a random IV) in hex.",
        discussion: """
            Prints `key: HEX` and, for aes-gcm schemes, `iv: HEX`. The output can be saved and \
            passed as --key-file (its iv line is used when --iv is not given). With --out the key \
            goes to a new file created 0600; when standard output is a file (`keygen > file`) that \
            file is made 0600. An aes-gcm IV encrypts one file: `cloister encrypt` refuses a \
            second file under the same key and IV.
            """
    )

    @Option(name: .long, help: "aes-gcm-128, aes-gcm-256, cloister-file-128 or cloister-file-256.")
    var scheme: String

    @Option(name: .long, help: "Write the key to this new file (mode 0600) instead of standard output.")
    var out: String?

    func run() throws {
        let parsed: Scheme
        do {
            parsed = try Scheme(parsing: scheme)
        } catch {
            fail(error.description)
        }
        guard parsed != .raw else { fail("the raw scheme takes no key") }
        var rng = SystemRandomNumberGenerator()
        let key = (0..<parsed.keySize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var text = "key: \(Hex.encode(key))\n"
        if parsed.takesIV {
            let iv = (0..<Scheme.ivSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
            text += "iv: \(Hex.encode(iv))\n"
        }
        let bytes = Array(text.utf8)
        if let out {
            let fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { fail("cannot create \(out): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            guard fchmod(fd, 0o600) == 0, bytes.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == bytes.count else {
                unlink(out)
                fail("cannot write \(out)")
            }
            return
        }
        // `keygen > file`: the shell created the file with the umask's mode; a key is the owner's alone.
        var info = stat()
        if fstat(1, &info) == 0, info.st_mode & S_IFMT == S_IFREG, fchmod(1, 0o600) != 0 {
            fail("standard output is a file that cannot be made 0600: \(String(cString: strerror(errno))); use --out")
        }
        FileHandle.standardOutput.write(Data(bytes))
    }

    private func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("cloister: \(message)\n".utf8))
        Foundation.exit(1)
    }
}
