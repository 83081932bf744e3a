import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Real C guests exercising each WASI family, on a hostfs mount and on a ramfs mount.
/// Every check a guest makes prints `ok` or `FAIL`; the expectations match wasmtime's.
@Suite struct WASIFamilyTests {
    @Test(arguments: ["fd_ops", "path_ops", "poll"], ["/data", "/tmp"])
    func fileFamilies(guest: String, directory: String) throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/\(guest).wasm", [directory])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("ok "))
    }

    @Test func clocks() throws {
        let run = try TestInstance().run("/bin/clocks.wasm", ["/tmp"])
        #expect(run.failures == [])
        #expect(run.status == .exited(0))
    }

    @Test func randomSchedulingAndSockets() throws {
        let run = try TestInstance().run("/bin/misc.wasm", ["/tmp"])
        #expect(run.failures == [])
        #expect(run.stdout.contains("ok sock_recv_stdout_enotsock"))
        #expect(run.status == .exited(0))
    }

    @Test func argumentsAndExitCode() throws {
        let instance = try TestInstance()
        let run = try instance.run("/bin/args_env.wasm", ["one", "two words"])
        #expect(run.stdout.contains("argc=3"))
        #expect(run.stdout.contains("argv[2]=two words"))
        #expect(try instance.run("/bin/exit_code.wasm", ["42"]).status == .exited(42))
        #expect(try instance.run("/bin/exit_code.wasm", ["300"]).status.exitCode == 300 & 0xff)
    }

    @Test func standardInputIsCopied() throws {
        let text = String(repeating: "cloister line\n", count: 5000)
        let run = try TestInstance().run("/bin/stdin_echo.wasm", stdin: text)
        #expect(run.stdout == text)
        #expect(run.status == .exited(0))
    }

    @Test func devicesAreUsable() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "zero")
              (data (i32.const 200) "\\00\\04\\00\\00\\10\\00\\00\\00")
              (func (export "_start")
                ;; open /dev/zero through preopen 7 (/dev), then read 16 bytes at 1024 (pre-filled with 0xff)
                (memory.fill (i32.const 1024) (i32.const 255) (i32.const 16))
                (if (call $open (i32.const 7) (i32.const 1) (i32.const 100) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 300))
                  (then (call $exit (i32.const 2))))
                (if (call $read (i32.load (i32.const 300)) (i32.const 200) (i32.const 1) (i32.const 400))
                  (then (call $exit (i32.const 3))))
                (if (i32.ne (i32.load (i32.const 400)) (i32.const 16)) (then (call $exit (i32.const 4))))
                (if (i64.ne (i64.load (i32.const 1024)) (i64.const 0)) (then (call $exit (i32.const 5))))
                (call $exit (i32.const 0))))
            """, as: "devzero")
        #expect(try instance.run(path).status == .exited(0))
    }

    @Test func writingToAClosedPipeIsEPIPENotAHostSignal() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "lost")
              (data (i32.const 200) "\\64\\00\\00\\00\\04\\00\\00\\00")
              (func (export "_start") (call $exit (call $write (i32.const 1) (i32.const 200) (i32.const 1) (i32.const 300)))))
            """, as: "pipewriter")
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        let pid = try instance.kernel.createProcess(path: path, stdio: .init(input: 0, output: fds[1], error: 2))
        #expect(try instance.kernel.exec(pid: pid) == .exited(Int32(Errno.pipe.rawValue)))
    }
}
