import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// One readiness model for every description (issue 17, part 1), driven by real guests
/// (`Tests/Guests/waits.c`): `poll_oneoff` over LibOS pipes wakes when another process writes
/// or exits, beside clocks; host streams wake when the host writes or drains; and a guest
/// blocked in any wait — poll over a pipe or standard input, a pipe read, a standard-input read,
/// a clock alone — is killed while it waits. The waits have no polling interval: a wake-up comes
/// from the pipe's queue or the host notifier, which these tests show by waits that return only
/// once the other side acts (a generous deadline, never a sleep).
@Suite struct ReadinessTests {
    @Test func pollOverAPipeWakesWhenAnotherProcessWritesOrExits() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/waits.wasm", ["poll-pipe"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.contains("ok poll wakes when the child writes"))
        #expect(run.stdout.contains("ok poll wakes with hang-up when the writer exits"))
        #expect(run.stdout.contains("ok an empty pipe lets its clock fire"))
        #expect(run.stdout.contains("ok no reader: the write end fails with EPIPE"))
    }

    /// Two processes bounce a byte through two pipes, each side waiting in libc's `poll()`
    /// (what `cloister-bench --only waits` times).
    @Test func pingPongThroughTwoPipes() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/waits.wasm", ["ping-pong", "200"])
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.hasPrefix("ping-pong 200 "), "\(run.stdout)")
    }

    /// A read of standard input (an empty host pipe) waits on the host notifier and returns
    /// the byte the host writes after the guest said it was about to block.
    @Test func aStdinReadWakesWhenTheHostWrites() throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        let (_, finished) = try instance.start(
            "/bin/waits.wasm", ["block-stdin"], stdio: .init(input: input.readEnd, output: output.writeEnd))
        #expect(output.receive(until: "blocked\n") == "blocked\n")
        input.send("x")
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(11)), "read 1 byte: exit 10 + 1")
    }

    /// A write to standard output (a host pipe) larger than the pipe waits for room; the host
    /// drains it slowly, and every byte arrives: each wait ends on the notifier's writable edge.
    @Test func aStdoutWriteWaitsForRoomAndWakesWhenTheHostDrains() throws {
        let instance = try TestInstance()
        let output = HostPipe()
        let bytes = 1 << 20
        let (_, finished) = try instance.start(
            "/bin/procs.wasm", ["child-write", "\(bytes)"], stdio: .init(input: 0, output: output.writeEnd, error: 2))
        var received = 0
        var buffer = [UInt8](repeating: 0, count: 8192)
        let deadline = Date().addingTimeInterval(120)
        while received < bytes && Date() < deadline {
            var request = pollfd(fd: output.readEnd, events: Int16(POLLIN), revents: 0)
            if poll(&request, 1, 100) > 0 {
                let count = read(output.readEnd, &buffer, buffer.count)
                if count <= 0 { break }
                received += count
            }
        }
        #expect(received == bytes)
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
    }

    /// A guest blocked in each kind of wait is killed while it waits: no deadline, no limit, no
    /// host write ends these waits — only the kill's interrupt of the thread's waiter.
    @Test(arguments: ["block-poll", "block-read", "block-stdin", "block-poll-stdin", "block-clock"])
    func aGuestBlockedInAWaitIsKilled(mode: String) throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        let (pid, finished) = try instance.start(
            "/bin/waits.wasm", [mode], stdio: .init(input: input.readEnd, output: output.writeEnd))
        #expect(output.receive(until: "blocked\n") == "blocked\n")
        #expect(finished.value == nil, "\(mode) returned: \(String(describing: finished.value))")
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 120) { finished.value != nil }, "\(mode) was not killed")
        let status = try #require(finished.value ?? nil)
        #expect(status.signal == .kill, "\(mode): \(status)")
    }
}
