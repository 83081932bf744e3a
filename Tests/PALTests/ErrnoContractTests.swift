import CloisterTestSupport
import Foundation
import Testing

/// Every errno case of the C API, the lifecycle (two instances refused, init → destroy → init)
/// and basic runs, checked by a C program built against the library (`Programs/pal_errno.c`).
@Suite struct ErrnoContractTests {
    @Test func everyCallAnswersItsErrno() throws {
        let instance = try InstanceFolder()
        try instance.install(bytes: Array("not wasm".utf8), as: "notwasm")
        let run = try HostCommand.run(try CPrograms.program("pal_errno"), [instance.path], timeout: 300)
        #expect(!run.timedOut)
        #expect(run.failures == [])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("PASSED"))
        // It checked what it should have: 50 and more checks ran.
        #expect(run.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count >= 50)
        // The run with log_level "TRACE" logged its system calls to stderr.
        #expect(run.stderr.contains("[trace]"))
        #expect(run.stderr.contains("fd_write("))
    }
}
