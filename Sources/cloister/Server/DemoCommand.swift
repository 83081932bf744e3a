import APIServer
import ArgumentParser
import CloisterClient
import Executors
import Foundation
import Logging
import Platform
import Scenarios
import ServiceLifecycle
import Synchronization

/// `cloister demo`: the Teaclave example scenarios through the HTTP API.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the example scenarios end to end through the HTTP API, with several users.",
        discussion: """
            Echo; two-party ordered set intersection; three banks' private join and compute; \
            Python logistic regression trained then used for prediction; a WebAssembly PSI; a \
            deadloop canceled. After each scenario it fetches the receipt of every task the scenario \
            ended and verifies it offline (signature, chain link) with the signer's published key: \
            one line per scenario. Without --url it starts a server of its own on a free loopback \
            port with a temporary data folder, and removes it afterwards.
            """
    )

    @Option(name: .long, help: "The server to use (default: start one).")
    var url: String?

    @Option(name: .customLong("admin-password"), help: "The admin's password on --url (default: CLOISTER_ADMIN_PASSWORD).")
    var adminPassword: String?

    @Option(name: .long, help: "The example payloads.")
    var examples: String = "examples/functions"

    @Option(name: .long, help: "The WebAssembly PSI module (built by make guests).")
    var psi: String = ".build/guests/functions/psi.wasm"

    @Option(name: .long, help: "Run only the scenarios whose name contains this.")
    var only: String?

    func run() async throws {
        let selected = Scenarios.all.filter { only == nil || $0.name.contains(only!) }
        guard !selected.isEmpty else { throw ValidationError("no scenario matches \(only!)") }
        if let url {
            guard let password = adminPassword ?? ProcessInfo.processInfo.environment["CLOISTER_ADMIN_PASSWORD"] else {
                throw ValidationError("give --admin-password (or CLOISTER_ADMIN_PASSWORD) for \(url)")
            }
            try await runScenarios(selected, url: url, adminPassword: password)
            return
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-demo-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = PlatformConfiguration(dataFolder: folder)
        configuration.adminPassword = "demo-\(UUID().uuidString)"
        configuration.passwordCost = 10
        // Every party signs in from this machine; compiled programs are kept for the next demo.
        configuration.loginLimits.attemptsPerAddress = 1000
        configuration.useSandboxes(engine: nil, cacheFolder: nil)
        var logger = Logger(label: "cloister.demo")
        logger.logLevel = .warning
        let platform = try await Platform.open(configuration, logger: logger)
        _ = try await platform.bootstrapAdmin()
        let port = AsyncStream<Int>.makeStream()
        let application = try APIServer.application(
            platform: platform, configuration: .init(port: 0), logger: logger, onRunning: { port.continuation.yield($0) })
        let group = ServiceGroup(configuration: .init(services: [application], logger: logger))
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var ports = port.stream.makeAsyncIterator()
                guard let listening = await ports.next() else { return }
                print("demo: started a server at http://127.0.0.1:\(listening) (data in \(folder))")
                do {
                    try await runScenarios(selected, url: "http://127.0.0.1:\(listening)", adminPassword: configuration.adminPassword!)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        } catch {
            // A scenario failed: the database is closed all the same (an open connection traps).
            try? await platform.shutdown()
            throw error
        }
        try await platform.shutdown()
    }

    private func runScenarios(_ scenarios: [(name: String, run: @Sendable (ScenarioContext) async throws -> Void)], url: String, adminPassword: String) async throws {
        let receipts = DemoReceipts(client: CloisterClient(baseURL: url))
        let context = ScenarioContext(
            client: CloisterClient(baseURL: url), adminPassword: adminPassword, examples: examples, psiModule: psi,
            log: { print($0) }, ended: { client, task in receipts.ended(client, task) })
        var failed: [String] = []
        for (index, scenario) in scenarios.enumerated() {
            print("demo [\(index + 1)/\(scenarios.count)] \(scenario.name)")
            let start = ContinuousClock.now
            do {
                try await scenario.run(context)
                print("demo [\(index + 1)/\(scenarios.count)] \(scenario.name): ok (\(ContinuousClock.now - start))")
            } catch {
                print("demo [\(index + 1)/\(scenarios.count)] \(scenario.name): FAILED: \(error)")
                failed.append(scenario.name)
            }
            let (line, verified) = await receipts.check()
            print("demo [\(index + 1)/\(scenarios.count)] \(scenario.name): \(line)")
            if !verified, !failed.contains(scenario.name) { failed.append(scenario.name) }
        }
        if !failed.isEmpty {
            print("demo: \(failed.count) of \(scenarios.count) scenarios failed: \(failed.joined(separator: ", "))")
            throw ExitCode(1)
        }
        print("demo: all \(scenarios.count) scenarios passed")
    }
}

/// The receipts of the tasks a scenario ended, fetched and verified offline after it.
private final class DemoReceipts: Sendable {
    let client: CloisterClient
    private let pending = Mutex<[(client: CloisterClient, task: String)]>([])
    /// Every receipt verified so far, by sequence: the one before the next is usually among them.
    private let seen = Mutex<[Int: [UInt8]]>([:])

    init(client: CloisterClient) { self.client = client }

    func ended(_ client: CloisterClient, _ task: String) {
        pending.withLock { $0.append((client, task)) }
    }

    /// One line: each task's receipt, verified with its signer's published key (and against the
    /// receipt before it, when seen); false if one did not verify.
    func check() async -> (String, Bool) {
        let tasks = pending.withLock { tasks in defer { tasks = [] }; return tasks }
        guard !tasks.isEmpty else { return ("no task ended, no receipt", true) }
        var parts: [String] = []
        var verified = true
        for (client, task) in tasks {
            do {
                let document = Array(try await client.taskReceipt(task))
                let attestation = try await self.client.attestation()
                let keys = [attestation.platform] + attestation.workers
                let signer = Self.signer(of: document)
                guard let key = keys.first(where: { $0.keyId == signer }) else {
                    throw ReceiptVerificationFailure.unknownSigner(signer ?? "?")
                }
                let sequence = Self.sequence(of: document)
                let previous = sequence.flatMap { number in seen.withLock { $0[number - 1] } }
                let report = try ReceiptVerifier.verify(
                    receipt: document, publicKey: try ReceiptVerifier.publicKey(key.publicKey), previous: previous)
                seen.withLock { $0[report.sequence] = document }
                let chain = previous == nil ? "" : ", follows receipt \(report.sequence - 1)"
                parts.append("\(task) \(report.state), receipt \(report.sequence) signed by the \(key.kind) key \(key.keyId.prefix(12))…\(chain): verified")
            } catch {
                verified = false
                parts.append("\(task): receipt NOT verified: \(error)")
            }
        }
        return ("receipts: " + parts.joined(separator: "; "), verified)
    }

    private static func field(_ document: [UInt8], _ path: [String]) -> JSONValue? {
        guard var value = try? JSONValue.parseCanonical(document) else { return nil }
        for key in path {
            guard let next = value[key] else { return nil }
            value = next
        }
        return value
    }

    static func signer(of document: [UInt8]) -> String? { field(document, ["receipt", "signer", "key_id"])?.string }
    static func sequence(of document: [UInt8]) -> Int? { field(document, ["receipt", "sequence"])?.integer }
}
