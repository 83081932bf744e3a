import CloisterTestSupport
import Foundation
import Testing

/// A guest spinning in a loop that makes no system call is killed from another host thread of
/// the embedding program (`Programs/pal_kill_busy.c`): by pid with SIGKILL, then with SIGTERM to
/// every process. The kernel's load-time instrumentation makes the loop check an interrupt flag.
@Suite struct BusyGuestKillTests {
    @Test func busyGuestIsKilledFromAnotherThread() throws {
        let instance = try InstanceFolder()
        let spinner = try instance.install(wat: GuestSnippets.spinner, as: "spinner")
        // A generous bound: the program itself gives up after 300 s (alarm), this after 360 s.
        let run = try HostCommand.run(try CPrograms.program("pal_kill_busy"), [instance.path, spinner], timeout: 360)
        #expect(!run.timedOut)
        #expect(run.failures == [])
        #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        #expect(run.stdout.contains("ok killed by signal 9"))
        #expect(run.stdout.contains("ok killed by signal 15"))
        #expect(run.stdout.contains("ok exec of a running pid -> EBUSY"))
    }
}
