import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Processes of the `cloister` module: spawn, wait, kill, pipes, zombies and orphans, with the
/// C guest `procs.c` built against cloister.h.
@Suite struct ProcessTests {
    /// The pid of the "child N" line a guest prints.
    static func childPID(in output: HostPipe) -> Int32? {
        let text = output.receive { $0.range(of: "\nchild [0-9]+\n", options: .regularExpression) != nil }
        let line = text.split(separator: "\n").first { $0.hasPrefix("child ") }
        return line.flatMap { Int32($0.dropFirst("child ".count)) }
    }

    @Test func spawnWaitKillAndTheirErrors() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/procs.wasm", ["basics"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ok child exited with 3"))
        #expect(instance.kernel.processIDs.isEmpty)
    }

    @Test func theGuestSDKExampleRuns() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/spawn_pipe.wasm")
        #expect(run.status == .exited(0), "\(run.stderr)")
        #expect(run.stdout.range(of: "parent read: hello from child [0-9]+\nchild [0-9]+ exited with 0\n", options: .regularExpression) != nil, "\(run.stdout)")
    }

    @Test func sixtyFourMebibytesThroughAPipeArriveIntact() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/procs.wasm", ["pipe", "\(64 << 20)"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.stdout.contains("ok pipe carried 67108864 of 67108864 bytes, 0 wrong"))
        #expect(run.status == .exited(0))
    }

    @Test func aSpawnBombStopsAtTheProcessLimitAndTheParentStaysHealthy() throws {
        var options = InstanceFolder.Options()
        options.maxProcesses = 6
        let instance = try TestInstance(options)
        let run = try instance.run("/bin/procs.wasm", ["bomb"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.stdout.contains("children 5"), "\(run.stdout)")
        #expect(run.status == .exited(0))
        #expect(instance.kernel.processIDs.isEmpty)
    }

    @Test func aBusySiblingIsKilledByAnotherGuest() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/procs.wasm", ["kill-sibling"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0))
    }

    @Test func aReaderBlockedOnAnEmptyPipeIsKilled() throws {
        let instance = try TestInstance()
        let output = HostPipe()
        let (pid, finished) = try instance.start("/bin/procs.wasm", ["pipe-block"], stdio: .init(output: output.writeEnd))
        #expect(output.receive(until: "blocking").contains("blocking"))
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually { finished.value != nil })
        #expect(finished.value == .some(.signaled(.kill)))
    }

    @Test func anEndedChildIsAZombieUntilItsParentWaits() throws {
        let instance = try TestInstance()
        let input = HostPipe(), output = HostPipe()
        let (pid, finished) = try instance.start(
            "/bin/procs.wasm", ["zombie"], stdio: .init(input: input.readEnd, output: output.writeEnd))
        let child = try #require(Self.childPID(in: output))
        #expect(eventually { instance.kernel.snapshot(of: child)?.isZombie == true })
        #expect(instance.kernel.snapshot(of: child)?.parentPID == pid)
        input.send("x")
        #expect(eventually { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        #expect(instance.kernel.snapshot(of: child) == nil)
    }

    @Test func anOrphanGoesToInitWhichReapsIt() throws {
        let instance = try TestInstance()
        let input = HostPipe(), output = HostPipe()
        let (_, finished) = try instance.start(
            "/bin/procs.wasm", ["orphan"], stdio: .init(input: input.readEnd, output: output.writeEnd))
        let child = try #require(Self.childPID(in: output))
        #expect(eventually { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        // The parent is gone; its child lives on, re-parented to init.
        #expect(eventually { instance.kernel.snapshot(of: child)?.parentPID == 0 })
        input.send("x")
        #expect(eventually { instance.kernel.processIDs.isEmpty })
    }

    @Test func anAffinitySetByAGuestIsOnItsHostThreadAndInherited() throws {
        let instance = try TestInstance()
        let input = HostPipe(), output = HostPipe()
        let (pid, finished) = try instance.start(
            "/bin/procs.wasm", ["affinity"], stdio: .init(input: input.readEnd, output: output.writeEnd))
        let text = output.receive(until: "pinned ")
        #expect(!text.contains("FAIL"), "\(text)")
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("pinned ") })
        let cpu = try #require(Int(line.dropFirst("pinned ".count)))
        // Read back from the host thread (pthread_getaffinity_np) while the guest waits.
        #expect(instance.kernel.affinity(ofThread: pid) == CpuSet([cpu]))
        input.send("x")
        #expect(eventually { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
    }
}
