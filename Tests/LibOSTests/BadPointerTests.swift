import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// Every pointer-taking syscall, given an out-of-range pointer by a real guest, answers EFAULT
/// and the host process survives.
@Suite struct BadPointerTests {
    /// A syscall call with one bad pointer: its import signature and its argument list.
    struct Case: CustomStringConvertible, Sendable {
        var name: String
        var parameters: String
        var arguments: [String]
        var description: String { "\(name)(\(arguments.joined(separator: ", ")))" }
    }

    static let bad = "0xfffffff0"
    /// Guest addresses of valid data: a path "x.txt" at 1024, an iovec with a bad buffer at
    /// 2048, a zero-length iovec at 2064, a clock subscription at 3072.
    static let path = "1024"
    static let iovecBadBuffer = "2048"
    static let emptyIovec = "2064"
    static let subscription = "3072"
    static let rights = "0x1fffffff"

    static let cases: [Case] = [
        Case(name: "args_get", parameters: "i32 i32", arguments: [bad, "0"]),
        Case(name: "args_get", parameters: "i32 i32", arguments: ["0", bad]),
        Case(name: "args_sizes_get", parameters: "i32 i32", arguments: [bad, "0"]),
        Case(name: "args_sizes_get", parameters: "i32 i32", arguments: ["0", bad]),
        Case(name: "environ_get", parameters: "i32 i32", arguments: [bad, "0"]),
        Case(name: "environ_get", parameters: "i32 i32", arguments: ["0", "65530"]),
        Case(name: "environ_sizes_get", parameters: "i32 i32", arguments: [bad, "0"]),
        Case(name: "environ_sizes_get", parameters: "i32 i32", arguments: ["0", bad]),
        Case(name: "clock_res_get", parameters: "i32 i32", arguments: ["1", bad]),
        Case(name: "clock_time_get", parameters: "i32 i64 i32", arguments: ["1", "0", bad]),
        Case(name: "random_get", parameters: "i32 i32", arguments: [bad, "16"]),
        Case(name: "random_get", parameters: "i32 i32", arguments: ["65000", "1000"]),
        Case(name: "fd_fdstat_get", parameters: "i32 i32", arguments: ["1", bad]),
        Case(name: "fd_filestat_get", parameters: "i32 i32", arguments: ["1", bad]),
        Case(name: "fd_pread", parameters: "i32 i32 i32 i64 i32", arguments: ["0", bad, "1", "0", "0"]),
        Case(name: "fd_pread", parameters: "i32 i32 i32 i64 i32", arguments: ["0", "0", "0", "0", bad]),
        Case(name: "fd_prestat_get", parameters: "i32 i32", arguments: ["3", bad]),
        Case(name: "fd_prestat_dir_name", parameters: "i32 i32 i32", arguments: ["3", bad, "1"]),
        Case(name: "fd_pwrite", parameters: "i32 i32 i32 i64 i32", arguments: ["1", bad, "1", "0", "0"]),
        Case(name: "fd_pwrite", parameters: "i32 i32 i32 i64 i32", arguments: ["1", iovecBadBuffer, "1", "0", "0"]),
        Case(name: "fd_read", parameters: "i32 i32 i32 i32", arguments: ["0", bad, "1", "0"]),
        Case(name: "fd_read", parameters: "i32 i32 i32 i32", arguments: ["0", iovecBadBuffer, "1", "0"]),
        Case(name: "fd_read", parameters: "i32 i32 i32 i32", arguments: ["0", emptyIovec, "1", bad]),
        Case(name: "fd_readdir", parameters: "i32 i32 i32 i64 i32", arguments: ["3", bad, "100", "0", "0"]),
        Case(name: "fd_readdir", parameters: "i32 i32 i32 i64 i32", arguments: ["3", "0", "100", "0", bad]),
        Case(name: "fd_seek", parameters: "i32 i64 i32 i32", arguments: ["1", "0", "0", bad]),
        Case(name: "fd_tell", parameters: "i32 i32", arguments: ["1", bad]),
        Case(name: "fd_write", parameters: "i32 i32 i32 i32", arguments: ["1", bad, "1", "0"]),
        Case(name: "fd_write", parameters: "i32 i32 i32 i32", arguments: ["1", iovecBadBuffer, "1", "0"]),
        Case(name: "fd_write", parameters: "i32 i32 i32 i32", arguments: ["1", emptyIovec, "1", bad]),
        Case(name: "fd_write", parameters: "i32 i32 i32 i32", arguments: ["1", "65500", "100", "0"]),
        Case(name: "path_create_directory", parameters: "i32 i32 i32", arguments: ["6", bad, "5"]),
        Case(name: "path_filestat_get", parameters: "i32 i32 i32 i32 i32", arguments: ["6", "0", bad, "5", "0"]),
        Case(name: "path_filestat_get", parameters: "i32 i32 i32 i32 i32", arguments: ["6", "0", path, "5", bad]),
        Case(name: "path_filestat_set_times", parameters: "i32 i32 i32 i32 i64 i64 i32", arguments: ["6", "0", bad, "5", "0", "0", "0"]),
        Case(name: "path_link", parameters: "i32 i32 i32 i32 i32 i32 i32", arguments: ["6", "0", bad, "5", "6", path, "5"]),
        Case(name: "path_link", parameters: "i32 i32 i32 i32 i32 i32 i32", arguments: ["6", "0", path, "5", "6", bad, "5"]),
        Case(name: "path_open", parameters: "i32 i32 i32 i32 i32 i64 i64 i32 i32", arguments: ["6", "0", bad, "5", "0", rights, rights, "0", "0"]),
        Case(name: "path_open", parameters: "i32 i32 i32 i32 i32 i64 i64 i32 i32", arguments: ["6", "0", path, "5", "1", rights, rights, "0", bad]),
        Case(name: "path_readlink", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["6", bad, "5", "0", "10", "0"]),
        Case(name: "path_readlink", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["6", path, "5", bad, "10", "0"]),
        Case(name: "path_readlink", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["6", path, "5", "0", "10", bad]),
        Case(name: "path_remove_directory", parameters: "i32 i32 i32", arguments: ["6", bad, "5"]),
        Case(name: "path_rename", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["6", bad, "5", "6", path, "5"]),
        Case(name: "path_rename", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["6", path, "5", "6", bad, "5"]),
        Case(name: "path_symlink", parameters: "i32 i32 i32 i32 i32", arguments: [bad, "5", "6", path, "5"]),
        Case(name: "path_symlink", parameters: "i32 i32 i32 i32 i32", arguments: [path, "5", "6", bad, "5"]),
        Case(name: "path_unlink_file", parameters: "i32 i32 i32", arguments: ["6", bad, "5"]),
        Case(name: "poll_oneoff", parameters: "i32 i32 i32 i32", arguments: [bad, "0", "1", "0"]),
        Case(name: "poll_oneoff", parameters: "i32 i32 i32 i32", arguments: [subscription, bad, "1", "0"]),
        Case(name: "poll_oneoff", parameters: "i32 i32 i32 i32", arguments: [subscription, "0", "1", bad]),
        Case(name: "sock_accept", parameters: "i32 i32 i32", arguments: ["1", "0", bad]),
        Case(name: "sock_recv", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["1", bad, "1", "0", "0", "0"]),
        Case(name: "sock_recv", parameters: "i32 i32 i32 i32 i32 i32", arguments: ["1", emptyIovec, "1", "0", bad, "0"]),
        Case(name: "sock_send", parameters: "i32 i32 i32 i32 i32", arguments: ["1", bad, "1", "0", "0"]),
        Case(name: "sock_send", parameters: "i32 i32 i32 i32 i32", arguments: ["1", emptyIovec, "1", "0", bad]),
    ]

    static func module(for testCase: Case) -> String {
        let types = testCase.parameters.split(separator: " ")
        let arguments = zip(types, testCase.arguments).map { "(\($0).const \($1))" }.joined(separator: " ")
        return """
            (module
              (import "wasi_snapshot_preview1" "\(testCase.name)" (func $call (param \(testCase.parameters)) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 1024) "x.txt")
              (data (i32.const 2048) "\\f0\\ff\\ff\\ff\\0a\\00\\00\\00")
              (data (i32.const 2064) "\\00\\00\\00\\00\\00\\00\\00\\00")
              (data (i32.const 3080) "\\00")
              (data (i32.const 3088) "\\01\\00\\00\\00")
              (func (export "_start") (call $exit (call $call \(arguments)))))
            """
    }

    @Test func everyPointerTakingSyscallAnswersEFAULT() throws {
        let instance = try TestInstance()
        var covered = Set<String>()
        for (index, testCase) in BadPointerTests.cases.enumerated() {
            let path = try instance.install(wat: BadPointerTests.module(for: testCase), as: "efault\(index)")
            let run = try instance.run(path)
            #expect(run.status == .exited(Int32(Errno.fault.rawValue)), "\(testCase) → \(run.status)")
            covered.insert(testCase.name)
        }
        // Every syscall of the module that takes a pointer is covered.
        let withoutPointers: Set = [
            "fd_advise", "fd_allocate", "fd_close", "fd_datasync", "fd_fdstat_set_flags", "fd_fdstat_set_rights",
            "fd_filestat_set_size", "fd_filestat_set_times", "fd_renumber", "fd_sync", "proc_exit", "proc_raise",
            "sched_yield", "sock_shutdown",
        ]
        #expect(Set(WASIPreview1.syscalls.keys).subtracting(withoutPointers) == covered)
    }

    @Test func guestOutOfBoundsAccessIsATrapNotACrash() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module (memory (export "memory") 1)
              (func (export "_start") (drop (i32.load (i32.const 0x7ffffff0)))))
            """, as: "oob")
        let run = try instance.run(path)
        #expect(run.status.signal == .segmentationFault)
        #expect(run.status.reason?.contains("out of bounds") == true, "\(run.status)")
    }
}
