import CloisterTestSupport
import CCloisterABI
import Foundation
import LibOS
import Testing

/// One ABI header, both sides: the layouts and constants the Swift side imports from
/// `cloister.h` and `cloister_pal_api.h` are those the other side compiles from the same file.
@Suite struct ABILayoutTests {
    /// What the Swift side (the LibOS) sees of `cloister.h`.
    static var guestABI: LayoutReport {
        var report = LayoutReport()
        report.structure("cloister_spawn_file_action", cloister_spawn_file_action.self, [
            ("kind", \.kind), ("fd", \.fd), ("new_fd", \.new_fd),
            ("path_ptr", \.path_ptr), ("path_len", \.path_len), ("oflags", \.oflags),
        ])
        report.structure("cloister_sockaddr", cloister_sockaddr.self, [
            ("family", \.family), ("port", \.port), ("flowinfo", \.flowinfo), ("scope_id", \.scope_id),
            ("addr", \.addr), ("path_len", \.path_len), ("path", \.path),
        ])
        report.structure("cloister_iovec", cloister_iovec.self, [("base", \.base), ("len", \.len)])
        report.structure("cloister_msghdr", cloister_msghdr.self, [
            ("name", \.name), ("iov", \.iov), ("iov_count", \.iov_count), ("control", \.control),
            ("control_len", \.control_len), ("flags", \.flags),
        ])
        report.constant("CLOISTER_ABI_VERSION", CLOISTER_ABI_VERSION)
        report.constant("CLOISTER_SIGHUP", CLOISTER_SIGHUP)
        report.constant("CLOISTER_SIGINT", CLOISTER_SIGINT)
        report.constant("CLOISTER_SIGQUIT", CLOISTER_SIGQUIT)
        report.constant("CLOISTER_SIGILL", CLOISTER_SIGILL)
        report.constant("CLOISTER_SIGABRT", CLOISTER_SIGABRT)
        report.constant("CLOISTER_SIGKILL", CLOISTER_SIGKILL)
        report.constant("CLOISTER_SIGSEGV", CLOISTER_SIGSEGV)
        report.constant("CLOISTER_SIGPIPE", CLOISTER_SIGPIPE)
        report.constant("CLOISTER_SIGTERM", CLOISTER_SIGTERM)
        report.constant("CLOISTER_SIGCHLD", CLOISTER_SIGCHLD)
        report.constant("CLOISTER_SIGXCPU", CLOISTER_SIGXCPU)
        report.constant("CLOISTER_SPAWN_FILE_ACTION_OPEN", CLOISTER_SPAWN_FILE_ACTION_OPEN)
        report.constant("CLOISTER_SPAWN_FILE_ACTION_CLOSE", CLOISTER_SPAWN_FILE_ACTION_CLOSE)
        report.constant("CLOISTER_SPAWN_FILE_ACTION_DUP2", CLOISTER_SPAWN_FILE_ACTION_DUP2)
        report.constant("CLOISTER_AF_UNIX", CLOISTER_AF_UNIX)
        report.constant("CLOISTER_AF_INET", CLOISTER_AF_INET)
        report.constant("CLOISTER_AF_INET6", CLOISTER_AF_INET6)
        report.constant("CLOISTER_SOCK_STREAM", CLOISTER_SOCK_STREAM)
        report.constant("CLOISTER_SOCK_DGRAM", CLOISTER_SOCK_DGRAM)
        report.constant("CLOISTER_SOCK_NONBLOCK", CLOISTER_SOCK_NONBLOCK)
        report.constant("CLOISTER_MSG_PEEK", CLOISTER_MSG_PEEK)
        report.constant("CLOISTER_MSG_TRUNC", CLOISTER_MSG_TRUNC)
        report.constant("CLOISTER_MSG_DONTWAIT", CLOISTER_MSG_DONTWAIT)
        report.constant("CLOISTER_MSG_NOSIGNAL", CLOISTER_MSG_NOSIGNAL)
        // The wait-status macros against the encoding the LibOS produces.
        report.constant("CLOISTER_W_EXITCODE(3)", WaitStatus.exited(3).rawValue)
        report.constant("CLOISTER_W_TERMSIG(9)", WaitStatus.signaled(.kill).rawValue)
        return report
    }

    /// What the PAL's Swift side sees of `cloister_pal_api.h`.
    static var palABI: LayoutReport {
        var report = LayoutReport()
        report.structure("cloister_pal_attr", cloister_pal_attr.self, [("instance_dir", \.instance_dir), ("log_level", \.log_level)])
        report.structure("cloister_stdio_fds", cloister_stdio_fds.self, [
            ("stdin_fd", \.stdin_fd), ("stdout_fd", \.stdout_fd), ("stderr_fd", \.stderr_fd),
        ])
        report.structure("cloister_pal_create_process_args", cloister_pal_create_process_args.self, [
            ("path", \.path), ("argv", \.argv), ("env", \.env), ("stdio", \.stdio), ("pid", \.pid),
        ])
        report.structure("cloister_pal_exec_args", cloister_pal_exec_args.self, [("pid", \.pid), ("exit_value", \.exit_value)])
        report.constant("CLOISTER_PAL_VERSION", CLOISTER_PAL_VERSION)
        report.constant("CLOISTER_PAL_ALL_PROCESSES", CLOISTER_PAL_ALL_PROCESSES)
        return report
    }

    @Test func wasm32GuestSeesTheLayoutTheSwiftSideUses() throws {
        let instance = try InstanceFolder()
        let run = try HostCommand.run(try CPrograms.cloisterRun(), ["--instance", instance.path, "/bin/abi_layout.wasm"])
        #expect(run.status == 0, "\(run.stderr)")
        let guest = run.stdout.split(separator: "\n").map(String.init)
        #expect(guest == Self.guestABI.lines)
        // The guest-visible structures have no implicit padding: the fields tile the structure.
        #expect(MemoryLayout<cloister_spawn_file_action>.size == 6 * MemoryLayout<UInt32>.size)
    }

    @Test func hostCompilerSeesTheLayoutThePALUses() throws {
        let run = try HostCommand.run(try CPrograms.program("pal_layout"), [])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").map(String.init) == Self.palABI.lines)
    }
}
