import ArgumentParser
import Foundation
import ProtectedFiles

/// `cloister keygen`: a random key (and IV for aes-gcm), in hex.
struct KeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Print a random key (and for aes-gcm a random IV) in hex.",
        discussion: """
            Prints `key: HEX` and, for aes-gcm schemes, `iv: HEX`. The output can be saved and \
            passed as --key-file (its iv line is used when --iv is not given).
            """
    )

    @Option(name: .long, help: "aes-gcm-128, aes-gcm-256, cloister-file-128 or cloister-file-256.")
    var scheme: String

    func run() throws {
        let parsed: Scheme
        do {
            parsed = try Scheme(parsing: scheme)
        } catch {
            FileHandle.standardError.write(Data("cloister: \(error.description)\n".utf8))
            throw ExitCode(1)
        }
        guard parsed != .raw else {
            FileHandle.standardError.write(Data("cloister: the raw scheme takes no key\n".utf8))
            throw ExitCode(1)
        }
        var rng = SystemRandomNumberGenerator()
        let key = (0..<parsed.keySize).map { _ in UInt8.random(in: 0...255, using: &rng) }
        print("key: \(Hex.encode(key))")
        if parsed.takesIV {
            let iv = (0..<Scheme.ivSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
            print("iv: \(Hex.encode(iv))")
        }
    }
}
