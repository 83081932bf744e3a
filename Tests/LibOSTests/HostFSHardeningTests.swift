import CloisterTestSupport
import Foundation
import LibOS
import Testing

/// hostfs serves regular files and folders only, and a read-only mount refuses every change
/// (issue 20, item 15).
@Suite struct HostFSHardeningTests {
    /// A FIFO in a hostfs folder once blocked the host thread in `open` or `read` past every
    /// limit, `--timeout` and SIGTERM included. Opening it is refused now (EACCES, as on a
    /// `nodev` mount), for reading and for writing, at once; its name still lists and stats.
    @Test func fifoIsRefused() throws {
        let instance = try TestInstance()
        #expect(mkfifo(instance.dataDirectory.appendingPathComponent("fifo").path, 0o644) == 0)
        for arguments in [["read", "/data/fifo"], ["write", "/data/fifo", "x"], ["grow", "/data/fifo", "1"]] {
            let (_, finished) = try instance.start("/bin/files.wasm", arguments, limits: .init(wallTime: 60_000_000_000))
            #expect(eventually(within: 120) { finished.value != nil }, "\(arguments)")
            #expect(finished.value == .some(.exited(Int32(Errno.acces.rawValue))), "\(arguments)")
        }
        let listed = try instance.run("/bin/files.wasm", ["stat", "/data", "fifo"])
        #expect(listed.stdout.hasPrefix("fifo size=0"), "\(listed.stdout)")
    }

    /// `read_only` refused changes by path but let `fd_filestat_set_times` through a descriptor
    /// change the host file's times. Every change through a descriptor is EROFS now too.
    @Test func readOnlyMountRefusesChangesThroughADescriptor() throws {
        var options = InstanceFolder.Options()
        options.extraMounts = #", { "target": "/ro", "type": "hostfs", "source": "./data", "options": { "read_only": "true" } }"#
        let instance = try TestInstance(options)
        let file = instance.dataDirectory.appendingPathComponent("kept.txt")
        try Data("kept".utf8).write(to: file)
        let before = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        let run = try instance.run("/bin/files.wasm", ["settimes", "/ro/kept.txt"])
        #expect(run.status == .exited(Int32(Errno.rofs.rawValue)), "\(run.stdout)")
        let after = try FileManager.default.attributesOfItem(atPath: file.path)[.modificationDate] as? Date
        #expect(before == after)
        // The same file through the writable /data mount: allowed.
        #expect(try instance.run("/bin/files.wasm", ["settimes", "/data/kept.txt"]).status == .exited(0))
        // Growing it through /ro: refused as well.
        #expect(try instance.run("/bin/files.wasm", ["grow", "/ro/kept.txt", "100"]).status == .exited(Int32(Errno.rofs.rawValue)))
        #expect(try Data(contentsOf: file) == Data("kept".utf8))
    }
}
