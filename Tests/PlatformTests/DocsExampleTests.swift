import CloisterTestSupport
import Foundation
import Testing

/// docs/api.md's complete example, run exactly as the page shows it — bash, curl, jq and the
/// `cloister` binary — against a real `cloister serve` whose admin password has spaces in it.
@Suite("docs/api.md's complete curl example runs as written")
struct DocsExampleTests {
    /// The first ```sh block after `heading` in `document`.
    static func block(after heading: String, in document: String) throws -> String {
        let section = try #require(document.range(of: heading), "no \(heading)")
        let rest = document[section.upperBound...]
        let open = try #require(rest.range(of: "```sh\n"))
        let close = try #require(rest[open.upperBound...].range(of: "\n```\n"))
        return String(rest[open.upperBound..<close.lowerBound]) + "\n"
    }

    @Test("two banks intersect their customers: the task Finishes and bank A decrypts 0 1 1")
    func twoBanks() async throws {
        let document = try String(contentsOf: PackagePaths.root.appendingPathComponent("docs/api.md"), encoding: .utf8)
        let script = try Self.block(after: "## A complete example: two banks intersect their customers", in: document)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-docs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let password = "an admin's pass phrase, with spaces"
        let portFile = folder + "/port"
        let server = try ServerProcess.launch(
            ["serve", "--data", folder + "/cloister-data", "--port", "0", "--port-file", portFile, "--workers", "1", "--password-cost", "4"]
                + (try await TestDatabase.arguments(folder: folder)),
            environment: ["CLOISTER_ADMIN_PASSWORD": password])
        defer { kill(server.processIdentifier, SIGKILL) }
        let port = { (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) } }
        try #require(await poll(within: 60) { port() != nil }, "cloister serve did not start")

        try script.write(toFile: folder + "/example.sh", atomically: true, encoding: .utf8)
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [folder + "/example.sh"]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = CloisterExecutable.url.deletingLastPathComponent().path + ":" + (environment["PATH"] ?? "/usr/bin:/bin")
        environment["CLOISTER_URL"] = "http://127.0.0.1:\(port()!)"
        environment["CLOISTER_ADMIN_PASSWORD"] = password
        environment["XDG_CONFIG_HOME"] = folder + "/config"
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read both to their ends before waiting: a full pipe would block the script.
        async let printed = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        async let complained = Task.detached { errors.fileHandleForReading.readDataToEndOfFile() }.value
        let (out, err) = (String(decoding: await printed, as: UTF8.self), String(decoding: await complained, as: UTF8.self))
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "the example failed:\n\(out)\n\(err)")
        #expect(out.contains("\"DataAssigned\"\n\"Approved\"\n\"Staged\"\n"), "\(out)")
        #expect(out.hasSuffix("Finished\n0\n1\n1\n"), "\(out)")
    }
}
