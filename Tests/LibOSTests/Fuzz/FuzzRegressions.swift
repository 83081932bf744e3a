/// Fuzz seeds that found a bug, kept so the bug stays fixed (``SyscallFuzzTests``). Each ran
/// against the kernel before its fix, with the syscalls narrowed to `syscalls` (as
/// `CLOISTER_FUZZ_SYSCALLS` does; empty: all), and `found` says what it found there.
///
/// A seed replays the same calls only under the generator as committed with it; each bug also has
/// a test of its own with a real guest (named in `test`), which holds whatever the generator does.
enum FuzzRegressions {
    struct Case {
        var seed: UInt64
        var syscalls: [String]
        var found: String
        var test: String
    }

    static let all: [Case] = [
        Case(
            seed: 246, syscalls: ["poll_oneoff", "fd_read", "fd_write", "fd_close", "fd_fdstat"],
            found: "SIGILL: poll_oneoff converted a 30-day clock to Int32 milliseconds with stdin not ready",
            test: "IntegerSafetyTests.pollWithAFarClockAndStdinNotReady, CommandLineTests"),
        Case(
            seed: 54, syscalls: ["path_filestat", "fd_filestat", "fd_readdir"],
            found: "SIGILL: fileStat multiplied a host mtime after 2554 into UInt64 nanoseconds",
            test: "IntegerSafetyTests.hostFileDatedAfter2554"),
        Case(
            seed: 29, syscalls: [],
            found: "hang: teaclave_write_file(0, …) waited for stdin's pipe to become writable, past every kill",
            test: "HostStreamTests"),
        Case(
            seed: 1319, syscalls: ["poll_oneoff", "fd_read", "fd_write", "fd_close", "fd_fdstat", "path_open"],
            found: "hang: fd_read of a FIFO in a hostfs mount blocked the host thread past the kill",
            test: "HostFSHardeningTests.fifoIsRefused"),
        Case(
            seed: 136, syscalls: [],
            found: "deadlock: a write to a kernel pipe without a reader raised SIGPIPE under the pipe's lock; the writer's host thread, and its process, never ended",
            test: "ProcessSecurityTests.writeToAPipeWithoutReaderEndsTheWriterBySIGPIPE"),
        Case(
            seed: 138, syscalls: ["path_filestat", "fd_filestat", "path_open"],
            found: "hang: fd_filestat_set_size(1e9) of a sefs file grew uncharged plaintext for many seconds",
            test: "MemoryBudgetTests"),
    ]
}
