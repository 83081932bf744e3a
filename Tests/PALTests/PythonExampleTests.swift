import CloisterTestSupport
import Foundation
import Testing

/// `examples/run_guest.py` runs guests through the library with ctypes.
@Suite struct PythonExampleTests {
    private func runGuest(_ instance: InstanceFolder, _ arguments: [String]) throws -> HostCommand.Result {
        let script = PALPaths.examples.appendingPathComponent("run_guest.py").path
        return try HostCommand.run(
            try HostCommand.tool("python3"),
            [script, "--lib", try PALPaths.library().path, "--instance", instance.path] + arguments, timeout: 300)
    }

    @Test func runsGuestsThroughCtypes() throws {
        let instance = try InstanceFolder()
        let hello = try runGuest(instance, ["/bin/hello.wasm"])
        #expect(hello.status == 0, "\(hello.stderr)")
        #expect(hello.stdout == "Hello from a Cloister guest!\n")
        #expect(try runGuest(instance, ["/bin/exit_code.wasm", "7"]).status == 7)
        let missing = try runGuest(instance, ["/bin/nope.wasm"])
        #expect(missing.status == 127)
        #expect(missing.stderr.contains("No such file or directory"))
    }

    @Test func timerThreadKillsABusyGuest() throws {
        let instance = try InstanceFolder()
        let spinner = try instance.install(wat: GuestSnippets.spinner, as: "spinner")
        let killed = try runGuest(instance, ["--timeout", "0.5", spinner])
        #expect(!killed.timedOut)
        #expect(killed.status == 128 + 9)
        #expect(killed.stdout == "spinning\n")
    }
}
