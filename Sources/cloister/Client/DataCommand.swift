import ArgumentParser
import CloisterAPI
import CloisterClient
import Foundation
import ProtectedFiles

/// `cloister data …`.
struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Register input and output files and read outputs.",
        subcommands: [RegisterInput.self, RegisterOutput.self, FromOutput.self, List.self, Get.self, Download.self])

    struct RegisterInput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-input", abstract: "Register an encrypted input (file:// under a data root, http(s)://, data:).")
        @Option(help: "Where the file is.") var url: String
        @Option(help: "aes-gcm-128, aes-gcm-256, cloister-file-128, cloister-file-256 or raw.") var scheme: String
        @Option(name: .customLong("key-file"), help: "A file holding the key: `cloister keygen` output, hex text or the raw key bytes.") var keyFile: String?
        @Option(help: "The key as hex (prefer --key-file).") var key: String?
        @Option(help: "The IV as hex (aes-gcm only).") var iv: String?
        @Option(help: "The integrity tag as hex (what `cloister encrypt` prints).") var tag: String?
        func run() async throws {
            let (keyText, ivText) = try readKey(key: key, keyFile: keyFile, iv: iv, scheme: scheme)
            try await perform { try await $0.registerInput(RegisterInputRequest(url: url, scheme: scheme, key: keyText, iv: ivText, tag: tag)) }
        }
    }

    struct RegisterOutput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register-output", abstract: "Register an output: where it goes (default: kept by the platform) and its key.")
        @Option(help: "A file:// URL under a data root (default: the platform keeps it).") var url: String?
        @Option(help: "The scheme (not raw).") var scheme: String
        @Option(name: .customLong("key-file"), help: "A file holding the key: `cloister keygen` output, hex text or the raw key bytes.") var keyFile: String?
        @Option(help: "The key as hex (prefer --key-file).") var key: String?
        @Option(help: "The IV as hex (aes-gcm only; --key-file's iv line otherwise).") var iv: String?
        @Option(name: .customLong("owner"), help: "An owner (repeat for a fusion output; default: you).") var owners: [String] = []
        func run() async throws {
            let (keyText, ivText) = try readKey(key: key, keyFile: keyFile, iv: iv, scheme: scheme)
            try await perform {
                try await $0.registerOutput(RegisterOutputRequest(url: url, scheme: scheme, key: keyText, iv: ivText, owners: owners.isEmpty ? nil : owners))
            }
        }
    }

    struct FromOutput: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "from-output", abstract: "Register a written output as an input.")
        @Argument(help: "The output's id.") var outputId: String
        func run() async throws { try await perform { try await $0.registerInput(fromOutput: outputId) } }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List your inputs (or outputs).")
        @Flag(help: "List outputs.") var outputs = false
        func run() async throws { try await perform { outputs ? try await $0.listOutputs() : try await $0.listInputs() } }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show an input or output file.")
        @Argument(help: "The file's id (input-… or output-…).") var id: String
        func run() async throws {
            try await perform { id.hasPrefix("output-") ? try await $0.getOutput(id) : try await $0.getInput(id) }
        }
    }

    struct Download: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "download",
            abstract: "Save a written output (still encrypted: `cloister decrypt` opens it with your key).")
        @Argument(help: "The output's id.") var id: String
        @Option(name: .shortAndLong, help: "Where to save it.") var output: String
        func run() async throws {
            try await perform { client -> Done in
                let bytes = try await client.downloadOutput(id)
                try bytes.write(to: URL(fileURLWithPath: output))
                return Done()
            }
        }
    }
}

/// The key (hex) and IV from --key / --key-file (hex, `cloister keygen` output or raw bytes) / --iv.
private func readKey(key: String?, keyFile: String?, iv: String?, scheme: String) throws -> (key: String, iv: String?) {
    if let keyFile {
        guard let data = FileManager.default.contents(atPath: keyFile) else { throw ValidationError("cannot read \(keyFile)") }
        let parsed = KeyFile.parse([UInt8](data), keySize: Scheme(rawValue: scheme)?.keySize ?? 32)
        guard let bytes = parsed.key else { throw ValidationError("\(keyFile) holds no key") }
        let takesIV = Scheme(rawValue: scheme)?.takesIV ?? false
        return (Hex.encode(bytes), iv ?? (takesIV ? parsed.iv : nil))
    }
    if let key { return (key, iv) }
    if scheme == "raw" { return ("", iv) }
    throw ValidationError("give --key-file (or --key)")
}
