import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// `wasi.thread-spawn` threads on a shared memory, and exit_group across them.
@Suite struct ThreadTests {
    /// Four threads: one spins, one sleeps for an hour in poll_oneoff, the main one waits
    /// forever in memory.atomic.wait, and the last calls proc_exit(7) once the others started.
    static let fourThreads = """
        (module
          (import "env" "memory" (memory 1 1 shared))
          (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          ;; one-hour and 50 ms monotonic clock subscriptions at 256 and 1024
          (data (i32.const 272) "\\01\\00\\00\\00")
          (data (i32.const 280) "\\00\\68\\89\\12\\46\\03\\00\\00")
          (data (i32.const 1040) "\\01\\00\\00\\00")
          (data (i32.const 1048) "\\80\\f0\\fa\\02\\00\\00\\00\\00")
          (func $started (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1))))
          (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
            (call $started)
            (if (i32.eq (local.get $arg) (i32.const 1)) (then (loop $spin (br $spin))))
            (if (i32.eq (local.get $arg) (i32.const 2))
              (then (drop (call $poll (i32.const 256) (i32.const 512) (i32.const 1) (i32.const 600)))))
            (if (i32.eq (local.get $arg) (i32.const 3))
              (then
                (loop $wait (br_if $wait (i32.lt_u (i32.atomic.load (i32.const 0)) (i32.const 4))))
                (drop (call $poll (i32.const 1024) (i32.const 1280) (i32.const 1) (i32.const 1400)))
                (call $exit (i32.const 7)))))
          (func (export "_start")
            (if (i32.le_s (call $spawn (i32.const 1)) (i32.const 0)) (then unreachable))
            (if (i32.le_s (call $spawn (i32.const 2)) (i32.const 0)) (then unreachable))
            (if (i32.le_s (call $spawn (i32.const 3)) (i32.const 0)) (then unreachable))
            (call $started)
            (drop (memory.atomic.wait32 (i32.const 64) (i32.const 0) (i64.const -1)))
            unreachable))
        """

    @Test func exitGroupFromOneOfFourThreadsEndsThemAll() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: Self.fourThreads, as: "four-threads")
        let (pid, finished) = try instance.start(path)
        #expect(eventually(within: 60) { finished.value != nil })
        #expect(finished.value == .some(.exited(7)))
        #expect(instance.kernel.snapshot(of: pid) == nil)
    }

    @Test func aKillEndsEveryThread() throws {
        let instance = try TestInstance()
        // The same program without the exiting thread: killed from outside instead.
        let path = try instance.install(wat: Self.fourThreads.replacingOccurrences(of: "(call $exit (i32.const 7))", with: "(loop $forever (br $forever))"), as: "three-threads")
        let (pid, finished) = try instance.start(path)
        #expect(eventually { instance.kernel.snapshot(of: pid)?.threadCount == 4 })
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 60) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.kill)))
    }

    @Test func threadsCountAgainstTheThreadLimit() throws {
        var options = InstanceFolder.Options()
        options.maxThreads = 2
        let instance = try TestInstance(options)
        // Spawns three threads that spin; the third spawn must fail (-EAGAIN), then exit 9.
        let path = try instance.install(wat: """
            (module
              (import "env" "memory" (memory 1 1 shared))
              (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (func (export "wasi_thread_start") (param i32 i32) (loop $l (br $l)))
              (func (export "_start")
                (if (i32.le_s (call $spawn (i32.const 0)) (i32.const 0)) (then unreachable))
                (if (i32.ne (call $spawn (i32.const 0)) (i32.const -6)) (then unreachable))
                (call $exit (i32.const 9))))
            """, as: "thread-limit")
        let run = try instance.run(path)
        #expect(run.status == .exited(9), "\(run.status)")
    }
}
