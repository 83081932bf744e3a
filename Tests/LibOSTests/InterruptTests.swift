import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Guests that make no system call are still stoppable: the loader instruments every loop head
/// and function entry with a check of an interrupt flag only the kernel writes.
@Suite struct InterruptTests {
    static let spinner = """
        (module
          (memory (export "memory") 1)
          (func $spin (loop $forever (br $forever)))
          (func (export "_start") (call $spin)))
        """

    @Test func busyLoopIsKilledFromTheEntryAPI() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: InterruptTests.spinner, as: "spinner")
        let (pid, finished) = try instance.start(path)
        #expect(eventually { instance.kernel.isRunning(pid: pid) })
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 30) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.kill)))
        // The instance is healthy afterwards.
        #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
    }

    @Test func killDeliveredBeforeTheGuestStartsStillStopsIt() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: InterruptTests.spinner, as: "spinner2")
        for _ in 0..<5 {
            let (pid, finished) = try instance.start(path)
            try instance.kernel.kill(pid: pid, signal: .terminate)
            #expect(eventually(within: 30) { finished.value != nil })
            #expect(finished.value == .some(.signaled(.terminate)))
        }
    }

    @Test func guestCannotReachTheFlag() throws {
        let instance = try TestInstance()
        // A module that already exports the flag's name is refused rather than trusted.
        let impostor = try instance.install(wat: """
            (module (global (export "cloister.interrupt") (mut i32) (i32.const 0)) (func (export "_start")))
            """, as: "impostor")
        #expect(throws: Errno.noexec) { try instance.kernel.createProcess(path: impostor) }
        // Naming a global the module does not define (the index the flag will take) is invalid.
        let writer = try instance.install(bytes: [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x04, 0x01, 0x60, 0x00, 0x00,  // type () -> ()
            0x03, 0x02, 0x01, 0x00,  // one function
            0x06, 0x06, 0x01, 0x7f, 0x01, 0x41, 0x00, 0x0b,  // one global
            0x07, 0x0a, 0x01, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00,  // export _start
            0x0a, 0x08, 0x01, 0x06, 0x00, 0x41, 0x00, 0x24, 0x01, 0x0b,  // global.set 1 (i32.const 0)
        ], as: "writer")
        #expect(throws: Errno.noexec) { try instance.kernel.createProcess(path: writer) }
    }

    @Test func instrumentedGuestsStillComputeTheSame() throws {
        let instance = try TestInstance()
        // Loops with parameters and results, nested loops and blocks keep their meaning.
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func $sum (param $n i32) (result i32) (local $acc i32)
                (block $done
                  (loop $next
                    (br_if $done (i32.eqz (local.get $n)))
                    (local.set $acc (i32.add (local.get $acc) (local.get $n)))
                    (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                    (br $next)))
                (local.get $acc))
              (func $count (param i32) (result i32)
                (local.get 0)
                (loop (param i32) (result i32)
                  (i32.sub (i32.const 1))
                  (local.tee 0)
                  (br_if 0 (local.get 0))))
              (func (export "_start")
                (call $exit (i32.add (i32.rem_u (call $sum (i32.const 100)) (i32.const 200)) (call $count (i32.const 7))))))
            """, as: "loops")
        // sum(100) = 5050, 5050 % 200 = 50, count(7) = 0
        #expect(try instance.run(path).status == .exited(50))
        for guest in ["fd_ops", "path_ops"] {
            let run = try instance.run("/bin/\(guest).wasm", ["/tmp"])
            #expect(run.failures == [])
        }
    }
}
