import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// What a process can hand its children, and how a pipe's SIGPIPE ends its writer (issue 20).
@Suite struct ProcessSecurityTests {
    /// Spawn's OPEN file action resolved from the namespace root with full rights, so a child got
    /// rights its parent had dropped. It resolves from the parent's descriptor now, with its rights.
    @Test func spawnOpenNeverExceedsTheParentsRights() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/procs.wasm", ["spawn-rights"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0))
        #expect(run.stdout.contains("ok nor a child through a spawn OPEN action"))
    }

    /// Writing to a kernel pipe whose reader is gone raises SIGPIPE. The kernel once delivered it
    /// while holding the pipe's lock, and the delivery — which wakes the process's waiting
    /// threads through that lock — deadlocked the writing host thread: the process could never
    /// end. Found by the syscall fuzzer (FuzzRegressions, seed 136).
    @Test func writeToAPipeWithoutReaderEndsTheWriterBySIGPIPE() throws {
        let instance = try TestInstance()
        let (_, finished) = try instance.start("/bin/procs.wasm", ["sigpipe"], limits: .init(wallTime: 60_000_000_000))
        #expect(eventually(within: 120) { finished.value != nil }, "the writer never ended")
        #expect(finished.value??.signal == .pipe)
    }
}
