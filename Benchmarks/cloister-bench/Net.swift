import Foundation
import LibOS

#if canImport(Glibc)
import Glibc
#endif

// net: loopback TCP throughput of LibOS sockets against the same C program run natively, and
// sendmsg over 1, 4 and 16 iovecs against a staging copy. One program, Benchmarks/guests/netbench.c,
// built for wasm (its BSD calls go through cloister_socket.h to the LibOS's sockets) and natively;
// it times itself and prints one line. The host end of the guest↔host cases is ``LoopbackPeer``,
// a plain host socket of this process speaking netbench's sink/source protocol.

extension Bench {
    func netSection() throws -> String {
        let bytes = options.netMiB << 20, chunk = options.netChunkKiB << 10
        guard bytes % chunk == 0 else { throw BenchError("--net-chunk-kib must divide --net-mib") }
        let libos = try LibOSRunner(base: base, guests: guests, engine: options.engine, name: "net-instance", network: Self.loopbackRules)
        let peer = try LoopbackPeer()
        let native = "\(guests)/native/netbench"
        let commands = CommandRunner()

        /// Seconds the program measured, from its line `<prefix> BYTES NANOSECONDS [COPY_NANOSECONDS]`,
        /// and the seconds of its copies (the staging variant).
        func seconds(_ line: [String]) throws -> NetSample {
            guard line.count >= 3, Int(line[1]) == bytes, let nanoseconds = Double(line[2]), nanoseconds > 0 else {
                throw BenchError("netbench printed \(line.joined(separator: " "))")
            }
            return NetSample(seconds: nanoseconds / 1e9, copySeconds: line.count >= 4 ? (Double(line[3]) ?? .nan) / 1e9 : 0)
        }
        func guest(_ arguments: [String], _ prefix: String) throws -> NetSample {
            try seconds(libos.output("netbench", arguments: arguments, prefix: prefix))
        }
        /// A host process's line starting with `prefix`, as ``seconds(_:)``.
        func process(_ path: String, _ arguments: [String], _ prefix: String) throws -> NetSample {
            let text = try streams.capture(in: base) { stdio in _ = try commands.run(path, arguments, stdio: stdio) }
            guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix(prefix + " ") }) else {
                throw BenchError("\(path) \(arguments.joined(separator: " ")) printed: \(text)")
            }
            return try seconds(line.split(separator: " ").map(String.init))
        }
        func host(_ arguments: [String], _ prefix: String) throws -> NetSample { try process(native, arguments, prefix) }
        /// Runs `body` (a netbench that connects to the peer) while the peer serves one connection.
        func withPeer(_ role: LoopbackPeer.Role, _ body: () throws -> NetSample) throws -> NetSample {
            let served = peer.serve(role, bytes: bytes, chunk: chunk)
            let sample: NetSample
            do { sample = try body() } catch {
                try? served()
                throw error
            }
            try served()
            return sample
        }
        let size = ["\(bytes)", "\(chunk)"], port = "\(peer.port)"
        let pair = ["tcp-pair"] + size, send = ["send", port] + size, receive = ["recv", port] + size

        // Throughput: each path as a (guest, native) pair of cases.
        var paths: [(name: String, guest: NetCase, native: NetCase)] = [
            ("guest → guest, `tcp-pair` (native: native → native)",
             NetCase("tcp-pair, LibOS") { try guest(pair, "tcp-pair") }, NetCase("tcp-pair, native") { try host(pair, "tcp-pair") }),
            ("guest → host, `send` to the bench's sink (native: native → host)",
             NetCase("send → host, LibOS") { try withPeer(.sink) { try guest(send, "send") } },
             NetCase("send → host, native") { try withPeer(.sink) { try host(send, "send") } }),
            ("host → guest, `recv` from the bench's source (native: host → native)",
             NetCase("recv ← host, LibOS") { try withPeer(.source) { try guest(receive, "recv") } },
             NetCase("recv ← host, native") { try withPeer(.source) { try host(receive, "recv") } }),
        ]
        if let cloister = options.cloister {
            let instance = base + "/net-cloister-instance"
            try FileManager.default.createDirectory(atPath: instance, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: libos.instanceDirectory + "/" + InstanceConfig.fileName,
                                             toPath: instance + "/" + InstanceConfig.fileName)
            let run = NetCase("tcp-pair, cloister run") {
                try process(cloister, ["run", "--instance", instance, "/bin/netbench.wasm"] + pair, "tcp-pair")
            }
            paths.insert(("guest → guest, `tcp-pair` under `cloister run` (native: native → native)", run, paths[0].native), at: 1)
        }
        // sendmsg: the guest and the native program sending to the bench's sink, every variant.
        var messages: [(iovecs: Int, staging: Bool, guest: NetCase, native: NetCase)] = []
        for staging in [false, true] {
            for iovecs in [1, 4, 16] {
                let arguments = send + ["\(iovecs)"] + (staging ? ["staging"] : [])
                let label = "sendmsg \(iovecs) iovec\(iovecs == 1 ? "" : "s")\(staging ? ", staging copy" : "")"
                messages.append((iovecs, staging,
                                 NetCase(label + ", LibOS") { try withPeer(.sink) { try guest(arguments, "send") } },
                                 NetCase(label + ", native") { try withPeer(.sink) { try host(arguments, "send") } }))
            }
        }

        // Every case once per run, in turn (the `cloister run` row shares the native tcp-pair case).
        var cases: [NetCase] = []
        for c in paths.flatMap({ [$0.guest, $0.native] }) + messages.flatMap({ [$0.guest, $0.native] })
        where !cases.contains(where: { $0 === c }) {
            cases.append(c)
        }
        progress("net: \(options.netMiB) MiB per case in \(options.netChunkKiB) KiB messages, \(cases.count) cases")
        for _ in 0..<options.warmup {
            for c in cases {
                progress("  warm-up net: \(c.name)")
                _ = try c.run()
            }
        }
        for run in 1...options.runs {
            for c in cases {
                let sample = try c.run()
                c.samples.append(sample)
                progress("  run \(run)/\(options.runs) net: \(c.name): " + String(format: "%.0f MiB/s", Double(options.netMiB) / sample.seconds))
            }
        }

        let mib = Double(options.netMiB)
        func rate(_ seconds: Double) -> String { String(format: "%.0f MiB/s", mib / seconds) }
        func rates(_ c: NetCase) -> (median: String, range: String) {
            let sorted = c.samples.map(\.seconds).sorted()
            return (rate(median(sorted)), String(format: "%.0f–%.0f", mib / sorted.last!, mib / sorted.first!))
        }
        /// Median over runs of a's time / b's time, the two measured in the same run.
        func paired(_ a: NetCase, _ b: NetCase) -> Double {
            median(zip(a.samples, b.samples).map { $0.seconds / $1.seconds }.sorted())
        }
        var table = """

            ## Loopback TCP: LibOS sockets against the same program run natively

            `netbench` (Benchmarks/guests/netbench.c) moves \(options.netMiB) MiB over one TCP connection \
            on 127.0.0.1 in \(options.netChunkKiB) KiB `send()`s and `recv()`s, built once for wasm (its BSD \
            calls go through the guest SDK's `cloister_socket.h` to the LibOS's sockets, on the \
            \(options.engine?.rawValue ?? "default") engine, in this process through the entry API) and \
            once natively (gcc -O2). It times itself from the receiver's go byte to the last byte read \
            (`tcp-pair`: a process and the copy of itself it starts, `cloister_spawn` in the LibOS, `fork` \
            natively) or to the sink's ack (`send`); `recv` times from its go byte to the last byte. The \
            host end of the guest↔host rows is a plain host socket of the benchmark process. \
            \(options.runs) runs, every case once per run in turn, after \(options.warmup) warm-up run(s); \
            the ratio is the median over runs of the two times measured in the same run.

            | path | LibOS, median | LibOS, range | native, median | native, range | LibOS / native time (paired median) | runs |
            |---|---:|---:|---:|---:|---:|---:|

            """
        for path in paths {
            let g = rates(path.guest), n = rates(path.native)
            table += "| \(path.name) | \(g.median) | \(g.range) | \(n.median) | \(n.range) | \(formatFactor(paired(path.guest, path.native))) | \(options.runs) |\n"
        }
        let direct = messages.first { $0.iovecs == 1 && !$0.staging }!
        table += """

            ## sendmsg: iovecs straight over guest memory against a staging copy

            `netbench send PORT \(bytes) \(chunk) N [staging]` sends \(options.netMiB) MiB as \(options.netChunkKiB) KiB \
            messages to the benchmark's host sink over loopback TCP. "direct": each message is one \
            `sendmsg()` over N buffers of \(options.netChunkKiB)/N KiB, each in an allocation of its own; the \
            messages go round a 64 MiB ring, so their bytes are not in the CPU's caches. The LibOS checks \
            every iovec against guest memory, builds the host iovec array over the guest's buffers \
            (`IOVectors.overGuest`) and makes one host `sendmsg`. "staging copy": the guest first copies \
            the N buffers into one contiguous \(options.netChunkKiB) KiB buffer, the same for every message \
            (`memcpy`, which clang compiles to wasm's `memory.copy`, a host memmove), then sends it with \
            one `send()` — the extra copy a kernel with a trusted staging buffer makes, done here by the \
            guest itself, not by the kernel. "copy share" is the part of the time the program spent in \
            those copies. The receiver is the benchmark's host socket for every row, so the rows differ \
            only in the sending path. Time ratios are paired medians against "1 iovec, direct" of the \
            same program.

            | iovecs | variant | LibOS, median | LibOS, range | LibOS time vs 1 iovec direct | copy share (LibOS) | native, median | native time vs 1 iovec direct | copy share (native) | LibOS / native time (paired median) |
            |---:|---|---:|---:|---:|---:|---:|---:|---:|---:|

            """
        for message in messages {
            let g = rates(message.guest), n = rates(message.native)
            func share(_ c: NetCase) -> String {
                message.staging ? String(format: "%.1f %%", 100 * median(c.samples.map { $0.copySeconds / $0.seconds }.sorted())) : "—"
            }
            table += "| \(message.iovecs) | \(message.staging ? "staging copy" : "direct") | \(g.median) | \(g.range) | "
            table += "\(formatRatio(paired(message.guest, direct.guest))) | \(share(message.guest)) | \(n.median) | "
            table += "\(formatRatio(paired(message.native, direct.native))) | \(share(message.native)) | "
            table += "\(formatFactor(paired(message.guest, message.native))) |\n"
        }
        return table
    }

    /// The `network` object of the section's instance: listening and connecting on 127.0.0.1 only.
    static let loopbackRules = #"{ "listen": [{ "address": "127.0.0.1", "port": 0 }], "connect": [{ "host": "127.0.0.1/32", "port": 0 }] }"#
}

/// What one netbench run measured: its own time, and the part spent in staging copies.
struct NetSample {
    var seconds: Double
    var copySeconds: Double
}

/// One case of the net section and its samples, in run order.
final class NetCase {
    let name: String
    let run: () throws -> NetSample
    var samples: [NetSample] = []

    init(_ name: String, _ run: @escaping () throws -> NetSample) {
        self.name = name
        self.run = run
    }
}

/// The host end of the guest↔host cases: a TCP listener on 127.0.0.1 (a port the host picks)
/// serving one connection per run on a thread of its own, with netbench.c's protocol. As a
/// sink it writes a go byte, reads the bytes, writes an ack byte; as a source it waits for the
/// go byte, writes the bytes in chunks and closes. Waits are bounded (60 s), so a guest that
/// fails ends the run with an error rather than a hang.
final class LoopbackPeer: @unchecked Sendable {
    enum Role { case sink, source }

    let port: UInt16
    private let listener: Int32

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else { throw BenchError("host peer: socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(listener, pointer, length) == 0 && listen(listener, 4) == 0 && getsockname(listener, pointer, &length) == 0
            }
        }
        guard bound else {
            close(listener)
            throw BenchError("host peer: cannot listen on 127.0.0.1: errno \(errno)")
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(listener) }

    /// Serves one connection as `role` on a new thread; the closure returned waits for the end
    /// and throws what went wrong.
    func serve(_ role: Role, bytes: Int, chunk: Int) -> () throws -> Void {
        let done = DispatchSemaphore(value: 0)
        let failure = UnsafeSendableBox<String?>(nil)
        Thread {
            failure.value = self.serveOne(role, bytes: bytes, chunk: chunk)
            done.signal()
        }.start()
        return {
            done.wait()
            if let message = failure.value { throw BenchError("host peer (\(role)): \(message)") }
        }
    }

    /// nil, or what went wrong.
    private func serveOne(_ role: Role, bytes: Int, chunk: Int) -> String? {
        var waiting = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&waiting, 1, 60_000) == 1 else { return "no connection within 60 s" }
        let fd = accept(listener, nil, nil)
        guard fd >= 0 else { return "accept: errno \(errno)" }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 60, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0x61, count: chunk)
        var byte: UInt8 = 0x67
        switch role {
        case .sink:
            guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return "send (go): errno \(errno)" }
            var left = bytes
            while left > 0 {
                let got = recv(fd, &buffer, min(left, chunk), 0)
                guard got > 0 else { return got == 0 ? "end of stream with \(left) bytes to come" : "recv: errno \(errno)" }
                left -= got
            }
            guard send(fd, &byte, 1, Int32(MSG_NOSIGNAL)) == 1 else { return "send (ack): errno \(errno)" }
            // Until the sender closes, so its ack is read before this side's close.
            _ = recv(fd, &byte, 1, 0)
        case .source:
            guard recv(fd, &byte, 1, 0) == 1 else { return "recv (go): errno \(errno)" }
            var left = bytes
            while left > 0 {
                let sent = buffer.withUnsafeBytes { send(fd, $0.baseAddress!, min(left, chunk), Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return "send: errno \(errno)" }
                left -= sent
            }
        }
        return nil
    }
}
