import CloisterTestSupport
import Foundation
import Testing
import LibOS

@Suite struct EnvironmentAndLoggingTests {
    @Test func defaultAndUntrustedEnvironmentMerge() throws {
        let instance = try TestInstance()
        let run = try instance.run(
            "/bin/args_env.wasm", environment: ["LANG=fr_FR", "SECRET_TOKEN=abc", "HOME=/evil", "TERM=dumb", "PATH=/x"])
        // env.default is always set and cannot be overridden unless listed as untrusted.
        #expect(run.stdout.contains("env HOME=/root"))
        #expect(run.stdout.contains("env PATH=/bin"))
        // Untrusted names may be set by the caller.
        #expect(run.stdout.contains("env LANG=fr_FR"))
        #expect(run.stdout.contains("env TERM=dumb"))
        // Any other name is dropped.
        #expect(!run.stdout.contains("SECRET_TOKEN"))
        #expect(!run.stdout.contains("/evil"))
    }

    @Test func traceLogsEverySyscallWithoutGuestData() throws {
        let instance = try TestInstance(logLevel: .trace)
        let run = try instance.run("/bin/hello.wasm")
        #expect(run.status == .exited(0))
        let lines = instance.logSink.lines
        let write = try #require(lines.first { $0.contains("fd_write(") })
        #expect(write.contains("[trace]"))
        #expect(write.contains("pid=1 tid=1 sys="))
        #expect(write.contains("= ESUCCESS"))
        #expect(lines.contains { $0.contains("[info]") && $0.contains("exited with 0") })
        _ = try instance.run("/bin/exit_code.wasm", ["5"])
        #expect(instance.logSink.lines.contains { $0.contains("proc_exit(5)") })
        // Buffer contents never reach the log.
        #expect(!lines.joined().contains("Hello from a Cloister guest"))
    }

    @Test func releaseInstanceLogsNothing() throws {
        var options = InstanceFolder.Options()
        options.debuggable = false
        let instance = try TestInstance(options, logLevel: .trace)
        #expect(instance.kernel.log.level == .off)
        #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
        _ = try? instance.run("/bin/nope.wasm")
        #expect(instance.logSink.lines == [])
    }

    @Test func logLevelNames() {
        #expect(LogLevel(parsing: "TRACE") == .trace)
        #expect(LogLevel(parsing: "Warn") == .warn)
        #expect(LogLevel(parsing: "off") == .off)
        #expect(LogLevel(parsing: "verbose") == nil)
    }
}

@Suite struct ModuleCacheAndKillTests {
    @Test func programRunAgainIsNotParsedAgain() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: "(module (memory (export \"memory\") 1) (func (export \"_start\")))", as: "cached\(UUID().uuidString.prefix(8))")
        let before = ProgramCache.shared.statistics
        _ = try instance.run(path)
        let afterFirst = ProgramCache.shared.statistics
        _ = try instance.run(path)
        _ = try instance.run(path)
        let afterThird = ProgramCache.shared.statistics
        #expect(afterFirst.misses > before.misses)
        #expect(afterThird.hits >= afterFirst.hits + 2)
    }

    @Test func sleepingGuestIsKilledPromptly() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: GuestSnippets.sleeper(), as: "sleeper")
        let started = Date()
        let (pid, finished) = try instance.start(path)
        #expect(eventually { instance.kernel.isRunning(pid: pid) })
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 30) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.kill)))
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func readerBlockedOnStandardInputIsKilled() throws {
        let instance = try TestInstance()
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let (pid, finished) = try instance.start("/bin/stdin_echo.wasm", stdio: .init(input: fds[0], output: 1, error: 2))
        #expect(eventually { instance.kernel.isRunning(pid: pid) })
        try instance.kernel.kill(pid: -1, signal: .terminate)
        #expect(eventually(within: 30) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.terminate)))
    }

    @Test func writerBlockedOnAFullPipeIsKilled() throws {
        let instance = try TestInstance()
        // Writes 64 KiB to stdout again and again; nobody reads the pipe.
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 2)
              (data (i32.const 0) "\\00\\00\\01\\00\\00\\00\\01\\00")
              (func (export "_start") (loop $again
                (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
                (br $again))))
            """, as: "flooder")
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]); close(fds[1]) }
        let (pid, finished) = try instance.start(path, stdio: .init(input: 0, output: fds[1], error: 2))
        #expect(eventually { instance.kernel.isRunning(pid: pid) })
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 30) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.kill)))
    }
}
