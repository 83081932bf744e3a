import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// No number a guest passes — or a host file carries — may trap the host (issue 20, item 1).
/// Real guests (`Tests/Guests/poll_stdin.c`, `files.c`) drive the paths that used to trap.
@Suite struct IntegerSafetyTests {
    /// A 30-day clock beside standard input that is an empty pipe: the poll once converted the
    /// time left to Int32 milliseconds and trapped (SIGILL), killing the host. The host survives
    /// now, the poll waits, and a kill (here the wall-clock limit) still ends it.
    @Test func pollWithAFarClockAndStdinNotReady() throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        let (_, finished) = try instance.start(
            "/bin/poll_stdin.wasm", stdio: .init(input: input.readEnd, output: output.writeEnd),
            limits: .init(wallTime: 2_000_000_000))
        #expect(eventually(within: 120) { finished.value != nil })
        let status = try #require(finished.value ?? nil)
        #expect(status.signal == .kill)
        #expect(status.reason?.contains("wall-clock limit") == true, "\(status)")
        #expect(output.receive(until: "polling") == "polling\n")
    }

    /// And the same poll answers correctly once the stream is ready: one event, for standard
    /// input (userdata 1, type fd_read), and the guest reads the line.
    @Test func pollWithAFarClockAnswersWhenStdinIsReady() throws {
        let instance = try TestInstance()
        let input = HostPipe()
        let output = HostPipe()
        let (_, finished) = try instance.start("/bin/poll_stdin.wasm", stdio: .init(input: input.readEnd, output: output.writeEnd))
        var text = output.receive(until: "polling\n")
        #expect(text == "polling\n")
        input.send("hello\n")
        text += output.receive(until: "read hello\n")
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        #expect(text == "polling\nevents=1 userdata=1 type=1 error=0\nread hello\n")
    }

    /// The platform's variant: standard output a full pipe (a function that keeps it full) and a
    /// 30-day clock. The poll waits without trapping, and answers when room appears.
    @Test func pollWithAFarClockAndStdoutFull() throws {
        let instance = try TestInstance()
        let output = HostPipe()
        let errors = HostPipe()
        output.fill()
        let (_, finished) = try instance.start(
            "/bin/poll_stdin.wasm", ["write"], stdio: .init(output: output.writeEnd, error: errors.writeEnd))
        var report = errors.receive(until: "polling\n")
        #expect(report == "polling\n")
        output.drain()
        report += errors.receive(until: "error=0\n")
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        #expect(report == "polling\nevents=1 userdata=1 type=2 error=0\n")
    }

    /// A host file dated after 2554 (where UInt64 nanoseconds end) once trapped `fileStat`; one
    /// dated before 1970 has a negative time. Both read, saturated to the WASI range: 2^64 − 1 and 0.
    @Test func hostFileDatedAfter2554() throws {
        // tmpfs keeps such times; ext4 clamps them to 2446.
        let folder = URL(fileURLWithPath: access("/dev/shm", W_OK) == 0 ? "/dev/shm" : NSTemporaryDirectory())
            .appendingPathComponent("cloister-dated-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, seconds) in [("future", 1 << 35), ("past", -86_400)] {
            let path = folder.appendingPathComponent(name).path
            FileManager.default.createFile(atPath: path, contents: Data("dated".utf8))
            var times = [timespec(tv_sec: seconds, tv_nsec: 0), timespec(tv_sec: seconds, tv_nsec: 0)]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
        }
        var info = Glibc.stat()
        try #require(lstat(folder.appendingPathComponent("future").path, &info) == 0)
        try #require(info.st_mtim.tv_sec == 1 << 35, "the host file system cannot hold a date after 2554 here")

        var options = InstanceFolder.Options()
        options.extraMounts = #", { "target": "/dated", "type": "hostfs", "source": "\#(folder.path)" }"#
        let instance = try TestInstance(options)
        let run = try instance.run("/bin/files.wasm", ["stat", "/dated", "future", "past"])
        #expect(run.status == .exited(0))
        #expect(run.stdout == """
            future size=5 atim=18446744073709551615 mtim=18446744073709551615
            future fd mtim=18446744073709551615
            past size=5 atim=0 mtim=0
            past fd mtim=0

            """)
    }
}

extension HostPipe {
    /// Writes into the pipe until it is full (its reader has not read).
    func fill() {
        let flags = fcntl(writeEnd, F_GETFL)
        _ = fcntl(writeEnd, F_SETFL, flags | O_NONBLOCK)
        let chunk = [UInt8](repeating: 0x2e, count: 4096)
        while chunk.withUnsafeBytes({ write(writeEnd, $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(writeEnd, F_SETFL, flags)
    }

    /// Reads whatever the pipe holds now.
    func drain() {
        let flags = fcntl(readEnd, F_GETFL)
        _ = fcntl(readEnd, F_SETFL, flags | O_NONBLOCK)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while buffer.withUnsafeMutableBytes({ read(readEnd, $0.baseAddress, $0.count) }) > 0 {}
        _ = fcntl(readEnd, F_SETFL, flags)
    }
}
