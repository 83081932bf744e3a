import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// Standard streams are host descriptors the guest does not control the other end of: no call
/// on them may hold a host thread past a kill (issue 20). Each guest here once blocked a host
/// thread in `read(2)` or `poll` forever, whatever the limits said.
@Suite struct HostStreamTests {
    /// Runs `wat` with stdin an empty pipe (kept open, never written) and a wall-clock limit;
    /// its status, which must come.
    private func runAgainstEmptyStdin(_ wat: String, name: String, wallSeconds: UInt64 = 60) throws -> WaitStatus? {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        let path = try instance.install(wat: wat, as: name)
        let (_, finished) = try instance.start(
            path, stdio: .init(input: input.readEnd, output: output.writeEnd), limits: .init(wallTime: wallSeconds * 1_000_000_000))
        #expect(eventually(within: 120) { finished.value != nil }, "the guest's host thread never came back")
        return finished.value ?? nil
    }

    /// Writing to standard input (a pipe's read end, which never polls writable) waited forever
    /// in `cloister_write_file`/`teaclave_write_file`. It is EBADF now, like `fd_write` on it.
    @Test func writingToStdinIsEBADF() throws {
        let status = try runAgainstEmptyStdin("""
            (module
              (import "env" "teaclave_write_file" (func $write_file (param i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "\\00\\00\\00\\00\\04\\00\\00\\00")
              (func (export "_start")
                (if (i32.ne (call $write_file (i32.const 0) (i32.const 0) (i32.const 4)) (i32.const -1)) (then (call $exit (i32.const 1))))
                (call $exit (call $write (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 32)))))
            """, name: "write_stdin")
        #expect(status == .exited(Int32(Errno.badf.rawValue)))
    }

    /// An O_NONBLOCK read of an empty stdin pipe went straight to a blocking `read(2)`.
    @Test func nonblockingReadOfEmptyStdinIsEAGAIN() throws {
        let status = try runAgainstEmptyStdin("""
            (module
              (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func $flags (param i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "\\00\\01\\00\\00\\10\\00\\00\\00")
              (func (export "_start")
                (if (call $flags (i32.const 0) (i32.const 4)) (then (call $exit (i32.const 1))))
                (call $exit (call $read (i32.const 0) (i32.const 16) (i32.const 1) (i32.const 32)))))
            """, name: "nonblocking_read")
        #expect(status == .exited(Int32(Errno.again.rawValue)))
    }

    /// A read of stdin through the function-file import waited in `read(2)`, where no kill could
    /// reach it; now it waits interruptibly, and the wall-clock limit ends it.
    @Test func functionFileReadOfEmptyStdinIsInterruptible() throws {
        let status = try runAgainstEmptyStdin("""
            (module
              (import "env" "cloister_read_file" (func $read_file (param i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (func (export "_start") (drop (call $read_file (i32.const 0) (i32.const 0) (i32.const 16)))))
            """, name: "read_file_stdin", wallSeconds: 1)
        #expect(status?.signal == .kill)
        #expect(status?.reason?.contains("wall-clock limit") == true)
    }

    /// A vectored read gives what standard input holds: with 4 bytes there and two 4-byte
    /// buffers, it answers 4 at once (the second buffer once waited in `read(2)` for more).
    @Test func vectoredReadReturnsWhatStdinHolds() throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        input.send("abcd")
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "\\00\\01\\00\\00\\04\\00\\00\\00\\00\\02\\00\\00\\04\\00\\00\\00")
              (func (export "_start")
                (if (call $read (i32.const 0) (i32.const 16) (i32.const 2) (i32.const 32)) (then (call $exit (i32.const 100))))
                (call $exit (i32.load (i32.const 32)))))
            """, as: "vectored_read")
        let (_, finished) = try instance.start(path, stdio: .init(input: input.readEnd, output: output.writeEnd), limits: .init(wallTime: 60_000_000_000))
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(4)))
    }
}
