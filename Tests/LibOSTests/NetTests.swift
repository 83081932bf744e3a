import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// Sockets for LibOS guests (issue 17, part 2), with real guests: the guest SDK's echo server
/// and the client it spawns (`examples/guest-sdk/echo.c`), a host client against a guest
/// server, UDP both ways, AF_UNIX between two guest processes, one poll over a pipe and a
/// socket, sendmsg/recvmsg over several iovecs with MSG_PEEK/MSG_TRUNC/MSG_DONTWAIT, WASI's
/// `sock_*` calls, EFAULT for bad msghdr and iovec pointers, the `network` rules' refusals,
/// and guests killed while blocked in accept, recv and poll. Loopback only, ports the host picks.
@Suite struct NetTests {
    /// Rules for a guest that serves and connects on loopback.
    static let loopbackRules = #"{ "listen": [{ "address": "127.0.0.1", "port": 0 }], "connect": [{ "host": "127.0.0.1/32", "port": 0 }] }"#

    static func instance(network: String = NetTests.loopbackRules, logLevel: LogLevel? = nil) throws -> TestInstance {
        var options = InstanceFolder.Options()
        options.network = network
        return try TestInstance(options, logLevel: logLevel)
    }

    @Test func guestEchoServerWithTheClientItSpawns() throws {
        let instance = try Self.instance()
        let run = try instance.run("/bin/echo.wasm", ["server"])
        #expect(run.status == .exited(0), "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("echo client: 3 lines echoed"), "\(run.stdout)")
        #expect(run.stdout.contains("echo server: echoed 59 bytes to 127.0.0.1, client exited 0"), "\(run.stdout)")
    }

    /// netbench's pair (Benchmarks/guests/netbench.c, what `cloister-bench --only net` times):
    /// the sender it spawns moves every byte to its listener, and each side reports the count.
    @Test func netbenchPairMovesEveryByte() throws {
        let instance = try Self.instance()
        let run = try instance.run("/bin/netbench.wasm", ["tcp-pair", "4194304", "65536"])
        #expect(run.status == .exited(0), "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("tcp-pair 4194304 "), "\(run.stdout)")
        #expect(run.stdout.contains("send 4194304 "), "\(run.stdout)")
    }

    @Test func hostClientAgainstAGuestServer() throws {
        let instance = try Self.instance()
        let output = HostPipe()
        let (_, finished) = try instance.start("/bin/echo.wasm", ["serve-once"], stdio: .init(input: 0, output: output.writeEnd, error: 2))
        let port = try #require(Self.port(from: output))
        let client = try HostSocketClient(type: SOCK_STREAM)
        try client.connect(port: port)
        client.send("ping from the host\n")
        #expect(client.receive(count: 19) == "ping from the host\n")
        client.shutdownWriting()
        #expect(client.receive(count: 1) == "", "the guest closes after the host's end of stream")
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        #expect(output.receive(until: "echoed 19 bytes").contains("echoed 19 bytes"))
    }

    @Test func udpFromTheHostToAGuestAndBack() throws {
        let instance = try Self.instance()
        let output = HostPipe()
        let (_, finished) = try instance.start("/bin/net.wasm", ["udp-echo"], stdio: .init(input: 0, output: output.writeEnd, error: 2))
        let port = try #require(Self.port(from: output))
        let host = try HostSocketClient(type: SOCK_DGRAM)
        try host.bindLoopback()
        host.send("datagram from the host", toPort: port)
        #expect(host.receive(count: 64) == "datagram from the host")
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
    }

    /// The guest sends to the one host port its rules allow; the host bound the guest's socket on
    /// that send, and a datagram from another port (which the guest may not reach) is dropped
    /// before the reply it waits for.
    @Test func udpFromAGuestToTheHostAndBack() throws {
        let host = try HostSocketClient(type: SOCK_DGRAM)
        let port = try host.bindLoopback()
        let instance = try Self.instance(network: #"{ "listen": [], "connect": [{ "host": "127.0.0.1/32", "port": \#(port) }] }"#)
        let intruder = try HostSocketClient(type: SOCK_DGRAM)
        try intruder.bindLoopback()
        let output = HostPipe()
        let (_, finished) = try instance.start("/bin/net.wasm", ["udp-client", "\(port)"], stdio: .init(input: 0, output: output.writeEnd, error: 2))
        let (text, sender) = host.receiveFrom(count: 64)
        #expect(text == "datagram from the guest\0")
        intruder.send("datagram from elsewhere", toPort: sender)
        host.send("reply from the host", toPort: sender)
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.exited(0)))
        let printed = output.receive(until: "reply from the host")
        #expect(printed.contains("ok udp reply from the host: reply from the host"), "\(printed)")
        #expect(!printed.contains("elsewhere"))
    }

    @Test func unixSocketsBetweenTwoGuestProcesses() throws {
        // AF_UNIX lives inside the instance: no network rule is needed.
        let instance = try Self.instance(network: "")
        let run = try instance.run("/bin/net.wasm", ["unix-server", "the-socket"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.contains("ok getpeername: the-socket"))
        #expect(run.stdout.contains("ok EPIPE once the peer closed"))
    }

    /// The buffers of AF_UNIX connections and pipes are host memory a guest asks for: they count
    /// against `user_space_size`, so a guest that floods a listener's backlog gets ENOMEM instead
    /// of making the host hold gigabytes.
    @Test func connectionAndPipeBuffersCountAgainstTheMemoryLimit() throws {
        var options = InstanceFolder.Options()
        options.userSpaceSize = "48MB"
        let instance = try TestInstance(options)
        let run = try instance.run("/bin/net.wasm", ["buffer-flood"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(instance.kernel.memoryBudget.usedBytes < 48 << 20)
    }

    @Test func onePollOverAPipeAndASocket() throws {
        let instance = try Self.instance()
        let run = try instance.run("/bin/net.wasm", ["poll-mixed"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.contains("ok poll wakes for the socket, not the pipe"))
        #expect(run.stdout.contains("ok poll wakes for the pipe, not the socket"))
    }

    @Test func messagesFlagsAndOptions() throws {
        let instance = try Self.instance()
        let run = try instance.run("/bin/net.wasm", ["messages"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.contains("ok msg_flags has MSG_TRUNC"))
        #expect(run.stdout.contains("ok sendmsg of 16 iovecs"))
    }

    @Test func wasiSocketCallsOnTheSameDescriptors() throws {
        let instance = try Self.instance(network: "")
        let run = try instance.run("/bin/net.wasm", ["wasi-sock"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
    }

    @Test func badMessagePointersAreEFAULTAndMoveNothing() throws {
        let instance = try Self.instance(network: "")
        let run = try instance.run("/bin/net.wasm", ["faults"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(run.stdout.contains("ok nothing was sent by the refused calls"))
        #expect(run.stdout.contains("ok and the bytes were not taken"))
    }

    @Test func withoutNetworkRulesEveryHostSocketCallIsRefusedAndLogged() throws {
        let instance = try Self.instance(network: "", logLevel: .warn)
        let run = try instance.run("/bin/net.wasm", ["policy-denied"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        let lines = instance.logSink.lines
        #expect(lines.contains { $0.contains("listening at 127.0.0.1:0: not allowed") }, "\(lines)")
        #expect(lines.contains { $0.contains("connecting to 127.0.0.1:9: not allowed") }, "\(lines)")
        #expect(lines.contains { $0.contains("looking up localhost: not allowed") }, "\(lines)")
    }

    @Test func listedRulesAllowOnlyWhatTheyList() throws {
        let rules = #"""
            { "listen": [{ "address": "127.0.0.1", "port": 0 }],
              "connect": [{ "host": "localhost", "port": 0 }, { "host": "127.0.0.1/32", "port": 0 }, { "host": "0.0.0.0/0", "port": 0 }] }
            """#
        let instance = try Self.instance(network: rules, logLevel: .warn)
        let run = try instance.run("/bin/net.wasm", ["policy-listed", "localhost"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)")
        #expect(instance.logSink.lines.contains { $0.contains("looking up example.com: not allowed") })
    }

    /// A guest blocked in accept, in recv, or in poll on a socket is killed while it waits.
    @Test(arguments: ["block-accept", "block-recv", "block-poll"])
    func aGuestBlockedOnASocketIsKilled(mode: String) throws {
        let instance = try Self.instance()
        let output = HostPipe()
        let (pid, finished) = try instance.start("/bin/net.wasm", [mode], stdio: .init(input: 0, output: output.writeEnd, error: 2))
        #expect(output.receive(until: "blocked\n").hasSuffix("blocked\n"))
        #expect(finished.value == nil, "\(mode) returned")
        try instance.kernel.kill(pid: pid, signal: .kill)
        #expect(eventually(within: 120) { finished.value != nil }, "\(mode) was not killed")
        let status = try #require(finished.value ?? nil)
        #expect(status.signal == .kill, "\(mode): \(status)")
    }

    /// Every socket call of the `cloister` module that takes a pointer answers EFAULT for an
    /// out-of-range one, on a real socket (an unconnected AF_UNIX one), before it acts.
    @Test func everySocketCallChecksItsPointers() throws {
        let bad = "0xfffffff0"
        let fd = "FD"
        // 1024: "localhost"; 4004: a result; 4008: 4 bytes of data; 4100: a msghdr whose iovec
        // array is out of range; 4200: room for an address.
        let cases: [(String, [String])] = [
            ("socket", ["1", "1", "0", bad]),
            ("bind", [fd, bad]),
            ("accept", [fd, "0", bad, "4004"]), ("accept", [fd, "0", "0", bad]),
            ("connect", [fd, bad]),
            ("sendto", [fd, bad, "16", "0", "0", "4004"]), ("sendto", [fd, "4008", "4", "0", bad, "4004"]),
            ("sendto", [fd, "4008", "4", "0", "0", bad]),
            ("recvfrom", [fd, bad, "16", "0", "0", "4004"]), ("recvfrom", [fd, "4008", "4", "0", bad, "4004"]),
            ("recvfrom", [fd, "4008", "4", "0", "0", bad]),
            ("sendmsg", [fd, bad, "0", "4004"]), ("sendmsg", [fd, "4100", "0", "4004"]), ("sendmsg", [fd, "4100", "0", bad]),
            ("recvmsg", [fd, bad, "0", "4004"]), ("recvmsg", [fd, "4100", "0", "4004"]), ("recvmsg", [fd, "4100", "0", bad]),
            ("getsockname", [fd, bad]), ("getpeername", [fd, bad]), ("getsockopt", [fd, "1", "2", bad]),
            ("resolve", [bad, "9", "80", "4200", "1", "4004"]), ("resolve", ["1024", "9", "80", bad, "1", "4004"]),
            ("resolve", ["1024", "9", "80", "4200", "1", bad]),
        ]
        let instance = try Self.instance()
        var covered = Set<String>()
        for (index, (name, arguments)) in cases.enumerated() {
            let parameters = Array(repeating: "i32", count: arguments.count).joined(separator: " ")
            let values = arguments.map { $0 == fd ? "(i32.load (i32.const 4000))" : "(i32.const \($0))" }.joined(separator: " ")
            let path = try instance.install(wat: """
                (module
                  (import "cloister" "socket" (func $socket (param i32 i32 i32 i32) (result i32)))
                  (import "cloister" "\(name)" (func $call (param \(parameters)) (result i32)))
                  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
                  (memory (export "memory") 1)
                  (data (i32.const 1024) "localhost")
                  (data (i32.const 4100) "\\00\\00\\00\\00\\f0\\ff\\ff\\ff\\01\\00\\00\\00")
                  (func (export "_start")
                    (if (call $socket (i32.const 1) (i32.const 1) (i32.const 0) (i32.const 4000)) (then unreachable))
                    (call $exit (call $call \(values)))))
                """, as: "net-efault\(index)")
            let run = try instance.run(path)
            #expect(run.status == .exited(Int32(Errno.fault.rawValue)), "\(name)(\(arguments)) → \(run.status)")
            covered.insert(name)
        }
        let withoutPointers: Set = ["listen", "shutdown", "setsockopt"]
        let socketCalls: Set = [
            "socket", "bind", "listen", "accept", "connect", "sendto", "recvfrom", "sendmsg", "recvmsg", "shutdown",
            "getsockname", "getpeername", "getsockopt", "setsockopt", "resolve",
        ]
        #expect(socketCalls.isSubset(of: Set(CloisterModule.syscalls.keys)))
        #expect(socketCalls.subtracting(withoutPointers) == covered)
    }

    @Test func networkRulesAreValidated() throws {
        func parse(_ network: String) -> String? {
            var json = InstanceConfig.defaultJSON
            let end = json.range(of: "}", options: .backwards)!
            json.replaceSubrange(end, with: ", \"network\": \(network) }")
            do {
                _ = try InstanceConfig.parse(json, file: "Cloister.json")
                return nil
            } catch {
                return error.description
            }
        }
        #expect(InstanceConfig.default.network == .none)
        #expect(parse(#"{ "listen": [], "connect": [] }"#) == nil)
        #expect(parse(#"{ "listen": [{ "address": "::1", "port": 8080 }], "connect": [{ "host": "db.example.com", "port": 5432 }, { "host": "10.0.0.0/8", "port": 0 }] }"#) == nil)
        #expect(parse(#"{ "listen": [] }"#)?.contains("network.connect: missing required key") == true)
        #expect(parse(#"{ "listen": [{ "address": "localhost", "port": 1 }], "connect": [] }"#)?.contains("network.listen[0].address: expected an IPv4 or IPv6 address") == true)
        #expect(parse(#"{ "listen": [{ "address": "127.0.0.1", "port": 70000 }], "connect": [] }"#)?.contains("network.listen[0].port: expected a port") == true)
        #expect(parse(#"{ "listen": [], "connect": [{ "host": "10.0.0.0/33", "port": 1 }] }"#)?.contains("network.connect[0].host") == true)
        #expect(parse(#"{ "listen": [], "connect": [{ "host": "bad_name!", "port": 1 }] }"#)?.contains("network.connect[0].host") == true)
        #expect(parse(#"{ "listen": [], "connect": [], "dns": true }"#)?.contains("unknown key \"dns\"") == true)
    }

    /// Reads "port N" from a guest's output.
    static func port(from output: HostPipe) -> UInt16? {
        let text = output.receive(within: 120) { $0.contains("port ") && $0.hasSuffix("\n") }
        guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("port ") }) else { return nil }
        return UInt16(line.dropFirst(5))
    }
}

/// A host socket on loopback for the tests, with generous poll deadlines.
final class HostSocketClient {
    let fd: Int32

    init(type: __socket_type) throws {
        fd = socket(AF_INET, Int32(type.rawValue), 0)
        if fd < 0 { throw POSIXError(.EIO) }
    }

    deinit { close(fd) }

    private static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return address
    }

    func connect(port: UInt16) throws {
        var address = Self.loopback(port)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if result != 0 { throw POSIXError(.ECONNREFUSED) }
    }

    @discardableResult
    func bindLoopback() throws -> UInt16 {
        var address = Self.loopback(0)
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        if result != 0 { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return UInt16(bigEndian: address.sin_port)
    }

    func send(_ text: String) { _ = text.withCString { Glibc.send(fd, $0, strlen($0), 0) } }

    func send(_ text: String, toPort port: UInt16) {
        var address = Self.loopback(port)
        _ = text.withCString { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, bytes, strlen(bytes), 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    func shutdownWriting() { _ = shutdown(fd, Int32(SHUT_WR)) }

    /// Reads until `count` bytes (a stream) or one datagram arrived, the stream ended, or 120 s passed.
    func receive(count: Int) -> String { receiveFrom(count: count).text }

    func receiveFrom(count: Int) -> (text: String, port: UInt16) {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: count)
        var sender = sockaddr_in()
        let deadline = Date().addingTimeInterval(120)
        while bytes.count < count && Date() < deadline {
            var request = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&request, 1, 100) > 0 else { continue }
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let received = withUnsafeMutablePointer(to: &sender) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, count - bytes.count, 0, $0, &length) }
            }
            if received <= 0 { break }
            bytes += buffer[..<received]
            var type: Int32 = 0
            var size = socklen_t(4)
            getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &size)
            if type == Int32(SOCK_DGRAM.rawValue) { break }
        }
        return (String(decoding: bytes, as: UTF8.self), UInt16(bigEndian: sender.sin_port))
    }
}
