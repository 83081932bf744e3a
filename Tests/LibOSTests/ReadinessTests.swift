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

    /// exit_group from one thread ends another blocked in a standard-input read (a host stream
    /// waiting on the host notifier): the ending process interrupts the reader's waiter.
    /// (`ThreadTests` shows the same for a thread blocked in `poll_oneoff` on a clock.)
    @Test func exitGroupEndsAThreadBlockedInAStdinRead() throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let path = try instance.install(wat: """
            (module
              (import "env" "memory" (memory 1 1 shared))
              (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              ;; an iovec of 16 bytes at 128; a 50 ms monotonic clock subscription at 256
              (data (i32.const 16) "\\80\\00\\00\\00\\10\\00\\00\\00")
              (data (i32.const 272) "\\01\\00\\00\\00")
              (data (i32.const 280) "\\80\\f0\\fa\\02\\00\\00\\00\\00")
              (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
                (i32.atomic.store (i32.const 0) (i32.const 1))
                (drop (call $read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 32)))
                (i32.atomic.store (i32.const 4) (i32.const 1)))
              (func (export "_start")
                (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then unreachable))
                (loop $wait (br_if $wait (i32.eqz (i32.atomic.load (i32.const 0)))))
                (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))
                ;; the read has not returned: nothing was written to stdin
                (if (i32.atomic.load (i32.const 4)) (then (call $exit (i32.const 1))))
                (call $exit (i32.const 5))))
            """, as: "exit-with-blocked-reader")
        let (pid, finished) = try instance.start(path, stdio: .init(input: input.readEnd, output: 1, error: 2))
        #expect(eventually(within: 120) { finished.value != nil }, "the blocked reader kept the process alive")
        #expect(finished.value == .some(.exited(5)))
        #expect(instance.kernel.snapshot(of: pid) == nil)
    }
}
