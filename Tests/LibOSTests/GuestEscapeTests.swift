import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Guests that try to escape a limit through what runs before or beside their code: a start
/// function (which runs before any entry), tables (which engines allocate outside linear
/// memory), `memory.atomic.wait` (which runs no guest code while it sleeps).
@Suite struct GuestEscapeTests {
    /// A start function that never returns: it runs during what used to be instantiation.
    static let startSpinner = """
        (module (memory (export "memory") 1)
          (func $spin (loop $forever (br $forever)))
          (start $spin)
          (func (export "_start")))
        """

    @Test func aSpinningStartFunctionIsKilled() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: Self.startSpinner, as: "start-spinner")
        try instance.expectEndedByKillAndTerminate(path)
    }

    @Test func aSpinningStartFunctionMeetsItsTimeLimits() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: Self.startSpinner, as: "start-spinner")
        let (_, wall) = try instance.start(path, limits: .init(wallTime: 200_000_000))
        #expect(eventually(within: 30) { wall.value != nil })
        #expect(wall.value??.signal == .kill)
        #expect(wall.value??.reason?.contains("wall-clock limit") == true)
        let (_, cpu) = try instance.start(path, limits: .init(cpuTime: 200_000_000))
        #expect(eventually(within: 30) { cpu.value != nil })
        #expect(cpu.value == .some(.signaled(.cpuLimit)))
    }

    @Test func shutdownStopsASpinningStartFunction() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: Self.startSpinner, as: "start-spinner")
        let (pid, finished) = try instance.start(path)
        #expect(eventually { instance.kernel.isRunning(pid: pid) })
        try instance.kernel.shutdown(timeoutSeconds: 30)
        #expect(eventually(within: 30) { finished.value != nil })
    }

    /// A start function that returns normally still runs first, once per thread.
    @Test func aStartFunctionStillRunsBeforeTheEntry() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (global $set (mut i32) (i32.const 0))
              (func $init (global.set $set (i32.const 42)))
              (start $init)
              (func (export "_start") (call $exit (global.get $set))))
            """, as: "start-then-entry")
        #expect(try instance.run(path).status == .exited(42))
    }

    /// 300 tables of 2^20 function references took 2.5 GB of host memory under a 64 MB limit:
    /// tables are charged to the process's memory budget, and this one does not fit.
    @Test func tablesAreChargedToTheMemoryLimit() throws {
        var options = InstanceFolder.Options()
        options.heapSize = "64MB"
        let instance = try TestInstance(options)
        let tables = String(repeating: "(table 1048576 funcref)\n", count: 300)
        let path = try instance.install(wat: "(module (memory (export \"memory\") 1) \(tables) (func (export \"_start\")))", as: "tables")
        let refusal = #expect(throws: Errno.nomem) { try instance.kernel.createProcess(path: path) }
        #expect(refusal?.reason.contains("tables") == true, "\(refusal?.reason ?? "")")
        #expect(instance.kernel.processIDs == [])
        // One table the size of the whole limit does not fit either; a reasonable one does.
        let big = try instance.install(wat: "(module (memory (export \"memory\") 1) (table 8388608 funcref) (func (export \"_start\")))", as: "bigtable")
        #expect(throws: Errno.nomem) { try instance.kernel.createProcess(path: big) }
        let fine = try instance.install(wat: "(module (memory (export \"memory\") 1) (table 10000 funcref) (func (export \"_start\")))", as: "table")
        #expect(try instance.run(fine).status == .exited(0))
        #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
    }

    /// A table grows only as far as it was charged for: `table.grow` beyond answers -1.
    @Test func tableGrowthStopsAtItsCharge() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (table $t 1 funcref)
              (func (export "_start")
                (if (i32.ne (table.grow $t (ref.null func) (i32.const 100)) (i32.const 1)) (then (call $exit (i32.const 1))))
                (if (i32.ne (table.grow $t (ref.null func) (i32.const 1000000)) (i32.const -1)) (then (call $exit (i32.const 2))))
                (call $exit (table.size $t))))
            """, as: "tablegrow")
        #expect(try instance.run(path).status == .exited(101 & 0xff))
    }

    /// `memory.atomic.wait` is sliced so a parked thread passes an interrupt check: what the
    /// guest sees of a wait is unchanged — a timeout expires on time (not after one slice), a
    /// value that differs answers at once.
    @Test func slicedWaitsKeepTheirMeaning() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "env" "memory" (memory 1 1 shared))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
              (func $time (result i64) (drop (call $now (i32.const 1) (i64.const 1) (i32.const 64))) (i64.load (i32.const 64)))
              (func (export "_start") (local $start i64) (local $elapsed i64)
                ;; The value differs: "not-equal" (1) at once.
                (if (i32.ne (memory.atomic.wait32 (i32.const 0) (i32.const 7) (i64.const -1)) (i32.const 1)) (then (call $exit (i32.const 1))))
                ;; 35 ms, three and a half slices: "timed-out" (2) after at least 35 ms.
                (local.set $start (call $time))
                (if (i32.ne (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 35000000)) (i32.const 2)) (then (call $exit (i32.const 2))))
                (local.set $elapsed (i64.sub (call $time) (local.get $start)))
                (if (i64.lt_u (local.get $elapsed) (i64.const 35000000)) (then (call $exit (i32.const 3))))
                ;; The 64-bit form too.
                (if (i32.ne (memory.atomic.wait64 (i32.const 8) (i64.const 0) (i64.const 15000000)) (i32.const 2)) (then (call $exit (i32.const 4))))
                (call $exit (i32.const 0))))
            """, as: "waits")
        #expect(try instance.run(path).status == .exited(0))
    }
}

extension TestInstance {
    /// Runs the program at `path` twice, ending it with SIGKILL once and SIGTERM once while it
    /// runs; each time it must end by that signal.
    func expectEndedByKillAndTerminate(_ path: String) throws {
        for signal in [Signal.kill, .terminate] {
            let (pid, finished) = try start(path)
            #expect(eventually { self.kernel.isRunning(pid: pid) })
            try kernel.kill(pid: pid, signal: signal)
            #expect(eventually(within: 30) { finished.value != nil })
            #expect(finished.value == .some(.signaled(signal)))
        }
    }
}
