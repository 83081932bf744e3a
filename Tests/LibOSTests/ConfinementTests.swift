import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// A hostfs mount keeps the guest inside its folder: `..`, absolute and relative symlinks,
/// symlinked folders, hard links and renames that would leave it are all refused.
@Suite struct ConfinementTests {
    @Test func escapesAreRefused() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-escape-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let mount = root.appendingPathComponent("mnt")
        let outside = root.appendingPathComponent("outside")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        try Data("TOP SECRET".utf8).write(to: outside.appendingPathComponent("secret.txt"))
        try FileManager.default.createSymbolicLink(atPath: mount.appendingPathComponent("abs_link").path, withDestinationPath: outside.appendingPathComponent("secret.txt").path)
        try FileManager.default.createSymbolicLink(atPath: mount.appendingPathComponent("rel_link").path, withDestinationPath: "../outside/secret.txt")
        try FileManager.default.createSymbolicLink(atPath: mount.appendingPathComponent("dir_link").path, withDestinationPath: "../outside")

        var options = InstanceFolder.Options()
        options.extraMounts = ",\n{ \"target\": \"/escape\", \"type\": \"hostfs\", \"source\": \"\(mount.path)\" }"
        let instance = try TestInstance(options)
        let run = try instance.run("/bin/escape.wasm", ["/escape"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0), "\(run.stdout)\(run.stderr)")
        #expect(!run.stdout.contains("TOP SECRET"))
        // Nothing was moved or linked out of the mount, and the secret is untouched.
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("moved").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("leaked.txt").path))
        #expect(try String(contentsOf: outside.appendingPathComponent("secret.txt"), encoding: .utf8) == "TOP SECRET")
    }

    @Test func symlinkCannotLeaveItsMountThroughTheRoot() throws {
        // From the "/" preopen, a link inside /data that climbs out of /data is refused even
        // though its target would exist elsewhere in the namespace.
        let instance = try TestInstance()
        try FileManager.default.createSymbolicLink(atPath: instance.dataDirectory.appendingPathComponent("up").path, withDestinationPath: "../bin/hello.wasm")
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "data/up")
              (func (export "_start")
                (call $exit (call $open (i32.const 3) (i32.const 1) (i32.const 100) (i32.const 7) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))))
            """, as: "uplink")
        #expect(try instance.run(path).status == .exited(Int32(Errno.perm.rawValue)))
    }

    @Test func overlongPathIsENAMETOOLONG() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (func (export "_start")
                (memory.fill (i32.const 0) (i32.const 97) (i32.const 5000))
                (call $exit (call $open (i32.const 6) (i32.const 0) (i32.const 0) (i32.const 5000) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 6000)))))
            """, as: "longpath")
        #expect(try instance.run(path).status == .exited(Int32(Errno.nametoolong.rawValue)))
    }

    @Test func symlinkCycleIsELOOP() throws {
        let instance = try TestInstance()
        let data = instance.dataDirectory.path
        try FileManager.default.createSymbolicLink(atPath: data + "/ping", withDestinationPath: "pong")
        try FileManager.default.createSymbolicLink(atPath: data + "/pong", withDestinationPath: "./ping")
        let path = try instance.install(wat: """
            (module
              (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "ping")
              (func (export "_start")
                (call $exit (call $open (i32.const 5) (i32.const 1) (i32.const 100) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 200)))))
            """, as: "cycle")
        #expect(try instance.run(path).status == .exited(Int32(Errno.loop.rawValue)))
    }
}

