import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// The entry API's errno contract. One LibOS instance per host process, so these run in order.
@Suite(.serialized) struct EntryAPITests {
    private func errno(_ body: () throws(Errno) -> Void) -> Errno? {
        do {
            try body()
            return nil
        } catch {
            return error
        }
    }

    @Test func lifecycleAndErrors() throws {
        let instance = try TestInstance()
        // Before initialize: EAGAIN.
        #expect(errno { () throws(Errno) in _ = try LibOS.createProcess(path: "/bin/hello.wasm") } == .again)
        #expect(errno { () throws(Errno) in _ = try LibOS.exec(pid: 1) } == .again)
        #expect(errno { () throws(Errno) in try LibOS.kill(pid: 1, signal: 9) } == .again)
        #expect(errno { () throws(Errno) in try LibOS.destroy() } == .again)
        #expect(errno { () throws(Errno) in try LibOS.initialize(instance: instance.directory.path, logLevel: "loud") } == .inval)

        try LibOS.initialize(instance: instance.directory.path)
        // Initialize twice: EEXIST.
        #expect(errno { () throws(Errno) in try LibOS.initialize(instance: instance.directory.path) } == .exist)
        // Not an entry point, bad arguments, unknown pid, signals.
        #expect(errno { () throws(Errno) in _ = try LibOS.createProcess(path: "/data/x.wasm") } == .acces)
        #expect(errno { () throws(Errno) in _ = try LibOS.createProcess(path: "relative.wasm") } == .inval)
        #expect(errno { () throws(Errno) in _ = try LibOS.createProcess(path: "/bin/hello.wasm", argv: ["a\0b"]) } == .inval)
        #expect(errno { () throws(Errno) in _ = try LibOS.exec(pid: 999) } == .srch)
        #expect(errno { () throws(Errno) in try LibOS.kill(pid: 999, signal: 9) } == .srch)

        let pid = try LibOS.createProcess(path: "/bin/exit_code.wasm", argv: ["exit_code", "3"])
        #expect(errno { () throws(Errno) in try LibOS.kill(pid: pid, signal: 2) } == .perm)
        #expect(errno { () throws(Errno) in try LibOS.kill(pid: pid, signal: 99) } == .inval)
        #expect(try LibOS.exec(pid: pid) == .exited(3))
        // The process was reaped.
        #expect(errno { () throws(Errno) in _ = try LibOS.exec(pid: pid) } == .srch)

        // A process killed before it runs ends with the signal.
        let doomed = try LibOS.createProcess(path: "/bin/hello.wasm")
        try LibOS.kill(pid: doomed, signal: 15)
        #expect(try LibOS.exec(pid: doomed).signal == .terminate)

        // destroy → initialize works again.
        try LibOS.destroy()
        #expect(errno { () throws(Errno) in _ = try LibOS.createProcess(path: "/bin/hello.wasm") } == .again)
        try LibOS.initialize(instance: instance.directory.path)
        #expect(try LibOS.exec(pid: LibOS.createProcess(path: "/bin/hello.wasm")) == .exited(0))
        try LibOS.destroy()
    }

    @Test func processLimitIsEAGAIN() throws {
        var options = InstanceFolder.Options()
        options.maxProcesses = 2
        let instance = try TestInstance(options)
        let first = try instance.kernel.createProcess(path: "/bin/hello.wasm")
        _ = try instance.kernel.createProcess(path: "/bin/hello.wasm")
        #expect(throws: Errno.again) { try instance.kernel.createProcess(path: "/bin/hello.wasm") }
        // Reaping one frees a slot.
        _ = try instance.kernel.exec(pid: first)
        _ = try instance.kernel.createProcess(path: "/bin/hello.wasm")
    }

    @Test func badConfigIsAClearError() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-badcfg-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data("{\n  \"resource_limits\": 12,\n".utf8).write(to: directory.appendingPathComponent("Cloister.json"))
        #expect(errno { () throws(Errno) in _ = try Kernel(instanceDirectory: directory.path) }?.reason.contains("Cloister.json:") == true)
        #expect(errno { () throws(Errno) in try LibOS.initialize(instance: directory.path) } == .inval)
        #expect(errno { () throws(Errno) in try LibOS.destroy() } == .again)
        // A missing config is refused too.
        #expect(errno { () throws(Errno) in _ = try Kernel(instanceDirectory: directory.appendingPathComponent("none").path) } == .inval)
    }

    @Test func hostfsSourceMustExist() throws {
        var options = InstanceFolder.Options()
        options.extraMounts = ",\n{ \"target\": \"/gone\", \"type\": \"hostfs\", \"source\": \"./does-not-exist\" }"
        #expect(throws: Errno.noent) { _ = try TestInstance(options) }
    }
}
