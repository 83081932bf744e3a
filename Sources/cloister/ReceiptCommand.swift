import ArgumentParser
import CloisterAPI
import CloisterClient
import Foundation
import Logging
import Platform

/// `cloister receipt …`: check a task's receipt offline, list the keys that sign receipts.
struct ReceiptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "receipt", abstract: "Verify a task receipt offline; list the keys that sign receipts.",
        subcommands: [Verify.self, Keys.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check a receipt's signature, its link to the one before it and the outputs you hold, with no server.",
            discussion: """
                Get the receipt with `cloister task receipt ID --out RECEIPT.json` and the signer's key \
                from `cloister receipt keys` (a worker's, or the platform's for a canceled task). \
                Exits 0 when every check passes, 1 naming the check that failed. docs/receipts.md \
                specifies the format.
                """)
        @Argument(help: "The receipt (JSON).") var receipt: String
        @Option(name: .customLong("worker-key"), help: ArgumentHelp("The signer's Ed25519 public key: 64 hex digits, or a file holding them.", valueName: "key"))
        var workerKey: String
        @Option(help: ArgumentHelp("The receipt issued just before it: checks the chain link.", valueName: "file")) var previous: String?
        @Option(name: .customLong("output"), help: ArgumentHelp("An output file you hold: NAME=FILE (repeat for more).", valueName: "name=file"))
        var outputs: [String] = []

        func run() async throws {
            do {
                let key = try ReceiptVerifier.publicKey(workerKey)
                var files: [(name: String, bytes: [UInt8])] = []
                for text in outputs {
                    let (name, path) = try pair(text, option: "--output")
                    files.append((name, try Self.read(path, what: "output \(name)")))
                }
                let report = try ReceiptVerifier.verify(
                    receipt: try Self.read(receipt, what: "receipt"), publicKey: key,
                    previous: try previous.map { try Self.read($0, what: "previous receipt") }, outputs: files)
                for check in report.checks { print(check) }
                print("receipt \(report.sequence) of task \(report.taskId) (\(report.state)): verified")
            } catch let failure as ReceiptVerificationFailure {
                FileHandle.standardError.write(Data("cloister: receipt verification failed: \(failure)\n".utf8))
                throw ExitCode(1)
            }
        }

        private static func read(_ path: String, what: String) throws -> [UInt8] {
            guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("\(what): cannot read \(path)") }
            return Array(data)
        }
    }

    struct Keys: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keys", abstract: "The platform's key and every worker's key (GET /v1/attestation).")
        func run() async throws { try await perform { try await $0.attestation() } }
    }
}

extension TaskCommand {
    /// `cloister task receipt ID`.
    struct Receipt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "receipt", abstract: "Fetch the signed receipt of a task that ended (its participants).")
        @Argument(help: "The task's id.") var id: String
        @Option(help: ArgumentHelp("Write it to this file (default: standard output).", valueName: "file")) var out: String?
        func run() async throws {
            let session = try ClientSession.load()
            do {
                let document = try await ClientSession.withClient(url: session.url, caFile: session.caFile) { client in
                    try await client.with(token: session.token).taskReceipt(id)
                }
                if let out {
                    guard FileManager.default.createFile(atPath: out, contents: document) else { throw ValidationError("cannot write \(out)") }
                } else {
                    FileHandle.standardOutput.write(document)
                    print()
                }
            } catch let error as CloisterClientError {
                CLIExit.fail(error, session: session)
            }
        }
    }
}

extension AuditCommand {
    /// `cloister audit verify`: reads the database directly (no server, no key needed).
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify", abstract: "Check the audit log's hash chain in the database: every entry, its link, and the head.",
            discussion: "Exits 0 when the chain holds; 1 naming the first entry that was edited, deleted or reordered.")
        @OptionGroup var options: DatabaseOptions

        func run() async throws {
            let location = try options.location()
            if case .sqlite(let path) = location, !FileManager.default.fileExists(atPath: path) {
                throw ValidationError("no database at \(path): give --data or --database")
            }
            var logger = Logger(label: "cloister.audit")
            logger.logLevel = .warning
            let opened = try await PlatformDatabase.open(location, logger: logger)
            do {
                try await opened.checkSchema()
                let summary = try await opened.verifyAuditChain()
                print("audit log: \(summary.entries) entries, chain intact; head \(summary.headSha256)")
                print("receipts: \(summary.receipts) issued\(summary.receiptSha256.map { ", newest \($0)" } ?? "")")
                try await opened.shutdown()
            } catch let broken as AuditChainBroken {
                try? await opened.shutdown()
                FileHandle.standardError.write(Data("cloister: the audit log is not intact: \(broken)\n".utf8))
                throw ExitCode(1)
            } catch {
                try? await opened.shutdown()
                throw error
            }
        }
    }
}
