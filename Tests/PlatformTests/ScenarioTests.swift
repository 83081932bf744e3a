import CloisterAPI
import Scenarios
import Testing

/// Every scenario of `make demo`, end to end against a real server on a loopback port.
@Suite("Scenarios", .serialized)
struct ScenarioTests {
    @Test("make demo's scenarios", arguments: Scenarios.all.map(\.name))
    func scenario(_ name: String) async throws {
        let run = Scenarios.all.first { $0.name == name }!.run
        try await TestServer.with { server in try await run(server.scenarioContext) }
    }

    @Test("every scenario one after another on one server, as make demo runs them")
    func allOnOneServer() async throws {
        try await TestServer.with { server in
            let context = server.scenarioContext
            for scenario in Scenarios.all { try await scenario.run(context) }
        }
    }
}
