import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Programs that cannot start, and guests that fail: each gives a clear error or status and
/// leaves the host and the instance healthy.
@Suite struct ProgramFailureTests {
    private func createError(_ instance: TestInstance, _ path: String) -> Errno? {
        do {
            _ = try instance.kernel.createProcess(path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test func notAWasmFile() throws {
        let instance = try TestInstance()
        let path = try instance.install(bytes: Array("#!/bin/sh\necho hi\n".utf8), as: "script")
        let error = try #require(createError(instance, path))
        #expect(error == .noexec)
        #expect(error.reason.contains("is not a WebAssembly module"))
    }

    @Test func truncatedModule() throws {
        let instance = try TestInstance()
        let bytes = try Array(Data(contentsOf: TestGuests.path("hello")).prefix(300))
        let path = try instance.install(bytes: bytes, as: "truncated")
        let error = try #require(createError(instance, path))
        #expect(error == .noexec)
        #expect(error.reason.contains("is not a valid WebAssembly module"))
    }

    @Test func invalidModule() throws {
        let instance = try TestInstance()
        // A function whose body returns an i64 where its type promises an i32.
        let path = try instance.install(bytes: [
            0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
            0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7f,  // type: () -> i32
            0x03, 0x02, 0x01, 0x00,  // func 0: type 0
            0x07, 0x0a, 0x01, 0x06, 0x5f, 0x73, 0x74, 0x61, 0x72, 0x74, 0x00, 0x00,  // export "_start"
            0x0a, 0x06, 0x01, 0x04, 0x00, 0x42, 0x00, 0x0b,  // body: i64.const 0
        ], as: "invalid")
        let error = try #require(createError(instance, path))
        #expect(error == .noexec)
    }

    @Test func importNobodyProvidesIsNamed() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module (import "env" "launch_missiles" (func)) (memory (export "memory") 1) (func (export "_start")))
            """, as: "badimport")
        let error = try #require(createError(instance, path))
        #expect(error == .noexec)
        #expect(error.reason.contains("env.launch_missiles"))
        let unknownSyscall = try instance.install(wat: """
            (module (import "wasi_snapshot_preview1" "fd_teleport" (func)) (func (export "_start")))
            """, as: "badsyscall")
        #expect(createError(instance, unknownSyscall)?.reason.contains("wasi_snapshot_preview1.fd_teleport") == true)
    }

    @Test func missingStartExport() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: "(module (func (export \"main\")))", as: "nostart")
        #expect(createError(instance, path)?.reason.contains("_start") == true)
    }

    @Test func missingProgramAndNonEntryPoint() throws {
        let instance = try TestInstance()
        #expect(createError(instance, "/bin/nope.wasm") == .noent)
        try Data(try Data(contentsOf: TestGuests.path("hello"))).write(to: instance.dataDirectory.appendingPathComponent("hello.wasm"))
        let refused = try #require(createError(instance, "/data/hello.wasm"))
        #expect(refused == .acces)
        #expect(refused.reason.contains("entry point"))
        // "/bin" allows "/bin/x" but not "/binary/x" nor an escape through "..".
        #expect(createError(instance, "/bin/../data/hello.wasm") == .acces)
        #expect(createError(instance, "bin/hello.wasm") == .inval)
    }

    @Test func memoryGrowthStopsAtTheProcessLimit() throws {
        var options = InstanceFolder.Options()
        options.heapSize = "4MB"
        let instance = try TestInstance(options)
        // Grows one page at a time until memory.grow answers -1; exits with the page count.
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func (export "_start")
                (block $done (loop $grow
                  (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
                  (br $grow)))
                (call $exit (memory.size))))
            """, as: "membomb")
        let run = try instance.run(path)
        #expect(run.status == .exited(64))  // 4 MiB / 64 KiB
        // The instance is healthy afterwards.
        #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
    }

    @Test func initialMemoryOverTheLimitIsENOMEM() throws {
        var options = InstanceFolder.Options()
        options.heapSize = "4MB"
        let instance = try TestInstance(options)
        let path = try instance.install(wat: "(module (memory (export \"memory\") 100) (func (export \"_start\")))", as: "bigmem")
        #expect(throws: Errno.nomem) { try instance.kernel.createProcess(path: path) }
        // A module declaring the whole 4 GiB address space is refused before anything is allocated.
        let huge = try instance.install(wat: "(module (memory (export \"memory\") 65536) (func (export \"_start\")))", as: "hugemem")
        #expect(throws: Errno.nomem) { try instance.kernel.createProcess(path: huge) }
        #expect(instance.kernel.processIDs == [])
    }

    @Test func instanceWideMemoryLimit() throws {
        var options = InstanceFolder.Options()
        options.heapSize = "4MB"
        options.userSpaceSize = "6MB"
        let instance = try TestInstance(options)
        // Holds 4 MiB and sleeps until killed, while a second process asks for 4 MiB more.
        let holder = try instance.install(wat: GuestSnippets.sleeper(pages: 64), as: "holder")
        var (holderPID, finished) = try instance.start(holder)
        let second = try instance.install(wat: "(module (memory (export \"memory\") 64) (func (export \"_start\")))", as: "second")
        var refused = false
        #expect(eventually {
            // The holder may lose the race for the memory to a second that started first (then
            // it cannot start): start it again until it holds the memory.
            if finished.value != nil { (holderPID, finished) = try! instance.start(holder) }
            let pid = try? instance.kernel.createProcess(path: second)
            if let pid, (try? instance.kernel.exec(pid: pid)) == nil { refused = true }
            return refused
        })
        try instance.kernel.kill(pid: holderPID, signal: .kill)
        #expect(eventually { finished.value != nil })
        #expect(try instance.run(second).status == .exited(0))
    }

    @Test func stackExhaustionIsTheGuestsFailure() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module (memory (export "memory") 1)
              (func $deep (param i32) (result i32) (i32.add (call $deep (local.get 0)) (i32.const 1)))
              (func (export "_start") (drop (call $deep (i32.const 0)))))
            """, as: "recursion")
        let run = try instance.run(path)
        #expect(run.status.signal == .segmentationFault)
        #expect(run.status.reason?.contains("call stack exhausted") == true, "\(run.status)")
        #expect(try instance.run("/bin/hello.wasm").stdout == "Hello from a Cloister guest!\n")
    }

    @Test func unreachableAbortsAndRaiseTerminates() throws {
        let instance = try TestInstance()
        let trap = try instance.install(wat: "(module (func (export \"_start\") unreachable))", as: "unreachable")
        #expect(try instance.run(trap).status.signal == .abort)
        let raise = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "proc_raise" (func $raise (param i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (func (export "_start") (drop (call $raise (i32.const 15))) (call $exit (i32.const 0))))
            """, as: "raise")
        #expect(try instance.run(raise).status == .signaled(.terminate))
    }
}

/// A value set once from another thread.
final class Finished: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: WaitStatus?
    private var isSet = false
    func set(_ value: WaitStatus?) {
        lock.lock()
        stored = value
        isSet = true
        lock.unlock()
    }
    var value: WaitStatus?? {
        lock.lock()
        defer { lock.unlock() }
        return isSet ? .some(stored) : nil
    }
}

@Suite struct RamCapacityTests {
    /// Writes 64 KiB chunks to /tmp/fill until a write fails, then unlinks it; exits with the
    /// number of chunks written when the failure was ENOSPC, 255 otherwise.
    static let filler = """
        (module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "path_unlink_file" (func $unlink (param i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 2)
          (data (i32.const 100) "fill")
          (data (i32.const 200) "\\00\\00\\01\\00\\00\\00\\01\\00")
          (func (export "_start") (local $e i32) (local $n i32)
            (if (call $open (i32.const 6) (i32.const 0) (i32.const 100) (i32.const 4) (i32.const 1) (i64.const 0x40) (i64.const 0) (i32.const 0) (i32.const 300))
              (then (call $exit (i32.const 200))))
            (loop $more
              (local.set $e (call $write (i32.load (i32.const 300)) (i32.const 200) (i32.const 1) (i32.const 400)))
              (if (i32.eqz (local.get $e)) (then (local.set $n (i32.add (local.get $n) (i32.const 1))) (br $more))))
            (drop (call $unlink (i32.const 6) (i32.const 100) (i32.const 4)))
            (call $exit (select (local.get $n) (i32.const 255) (i32.eq (local.get $e) (i32.const 51))))))
        """

    @Test func ramfsHoldsAtMostUserSpaceSize() throws {
        var options = InstanceFolder.Options()
        options.userSpaceSize = "2MB"
        options.heapSize = "1MB"
        let instance = try TestInstance(options)
        let path = try instance.install(wat: RamCapacityTests.filler, as: "filler")
        // One budget of 2 MiB holds the filler's 128 KiB of linear memory, the ramfs metadata
        // (nodes and names, a few KiB) and the file: room for 29 chunks of 64 KiB, then ENOSPC.
        #expect(try instance.run(path).status == .exited(29))
        // The unlinked file's space came back, and the process's memory.
        #expect(try instance.run(path).status == .exited(29))
        #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
    }
}
