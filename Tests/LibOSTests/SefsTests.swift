import CloisterTestSupport
import Foundation
import Testing
import LibOS
import ProtectedFiles

/// `sefs` mounts: the guest works with plaintext, the host holds only authenticated ciphertext,
/// and a file changed on the host reads as EIO in the guest (and is logged).
@Suite struct SefsTests {
    private func instance(logLevel: LogLevel? = nil) throws -> TestInstance {
        var options = InstanceFolder.Options()
        options.extraMounts = InstanceFolder.sefsMount
        return try TestInstance(options, logLevel: logLevel)
    }

    /// Writes "TOP SECRET note" to /secure/note.txt (preopen 9).
    static let writer = """
        (module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "note.txt")
          (data (i32.const 200) "TOP SECRET note")
          (data (i32.const 300) "\\c8\\00\\00\\00\\0f\\00\\00\\00")
          (func (export "_start") (local $e i32)
            (local.set $e (call $open (i32.const 9) (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 9) (i64.const 0x46) (i64.const 0) (i32.const 0) (i32.const 400)))
            (if (local.get $e) (then (call $exit (local.get $e))))
            (local.set $e (call $write (i32.load (i32.const 400)) (i32.const 300) (i32.const 1) (i32.const 500)))
            (if (local.get $e) (then (call $exit (local.get $e))))
            (call $exit (call $close (i32.load (i32.const 400))))))
        """

    /// Prints /secure/note.txt to stdout; exits with the errno of the open or the read.
    static let reader = """
        (module
          (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "note.txt")
          (data (i32.const 300) "\\e8\\03\\00\\00\\00\\10\\00\\00")
          (func (export "_start") (local $e i32)
            (local.set $e (call $open (i32.const 9) (i32.const 0) (i32.const 100) (i32.const 8) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 400)))
            (if (local.get $e) (then (call $exit (local.get $e))))
            (local.set $e (call $read (i32.load (i32.const 400)) (i32.const 300) (i32.const 1) (i32.const 500)))
            (if (local.get $e) (then (call $exit (local.get $e))))
            (i32.store (i32.const 304) (i32.load (i32.const 500)))
            (drop (call $write (i32.const 1) (i32.const 300) (i32.const 1) (i32.const 600)))
            (call $exit (i32.const 0))))
        """


    @Test func guestSeesPlaintextHostSeesCiphertext() throws {
        let instance = try instance()
        #expect(try instance.run(try instance.install(wat: SefsTests.writer, as: "writer")).status == .exited(0))
        let read = try instance.run(try instance.install(wat: SefsTests.reader, as: "reader"))
        #expect(read.status == .exited(0))
        #expect(read.stdout == "TOP SECRET note")
        let stored = try Data(contentsOf: instance.directory.appendingPathComponent("secure/note.txt"))
        #expect(stored.starts(with: Array("CLOISTRF".utf8)))
        #expect(String(decoding: stored, as: UTF8.self).contains("SECRET") == false)
    }

    @Test(arguments: ["flip", "truncate", "empty", "append", "swap"])
    func tamperedFileReadsAsEIO(attack: String) throws {
        let instance = try instance(logLevel: .error)
        let writer = try instance.install(wat: SefsTests.writer, as: "writer")
        #expect(try instance.run(writer).status == .exited(0))
        let file = instance.directory.appendingPathComponent("secure/note.txt")
        var bytes = [UInt8](try Data(contentsOf: file))
        switch attack {
        case "flip": bytes[bytes.count - 20] ^= 0x01
        case "truncate": bytes.removeLast(5)
        case "empty": bytes = []
        case "append": bytes += [0x41, 0x42, 0x43]
        default:
            // The same plaintext sealed as another file (another run of the writer) and moved in.
            let copy = try Data(contentsOf: file)
            try FileManager.default.removeItem(at: file)
            #expect(try instance.run(writer).status == .exited(0))
            var fresh = [UInt8](try Data(contentsOf: file))
            fresh.replaceSubrange(32..<fresh.count, with: copy[32...])  // other file's chunk, this file's header
            bytes = fresh
        }
        try Data(bytes).write(to: file)
        let read = try instance.run(try instance.install(wat: SefsTests.reader, as: "reader"))
        #expect(read.status == .exited(Int32(Errno.io.rawValue)), "\(attack): \(read.status)")
        #expect(!read.stdout.contains("SECRET"))
        #expect(instance.logSink.lines.contains { $0.contains("[error]") && $0.contains("note.txt") })
    }

    @Test(arguments: ["fd_ops", "path_ops"])
    func fileFamiliesWorkOnSefs(guest: String) throws {
        // sefs binds each file to its path: path_ops checks that hard links are refused there.
        let run = try instance().run("/bin/\(guest).wasm", guest == "path_ops" ? ["/secure", "sefs"] : ["/secure"])
        #expect(run.failures == [], "\(run.stdout)")
        #expect(run.status == .exited(0))
    }

    @Test func sefsNeedsAKeyFile() throws {
        var options = InstanceFolder.Options()
        options.extraMounts = #", { "target": "/secure", "type": "sefs", "source": "./secure", "options": { "key_file": "./missing.key" } }"#
        #expect(throws: Errno.noent) { _ = try TestInstance(options) }
    }

    @Test func withoutAKeyFileTheKeyComesFromTheInstanceKey() throws {
        var options = InstanceFolder.Options()
        options.extraMounts = #", { "target": "/secure", "type": "sefs", "source": "./secure" }"#
        let instance = try TestInstance(options)
        #expect(try instance.run(try instance.install(wat: SefsTests.writer, as: "writer")).status == .exited(0))
        let keyFile = instance.directory.appendingPathComponent(".cloister/instance.key")
        #expect(try Data(contentsOf: keyFile).count == 32)
        #expect(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int == 0o600)
        // Starting the instance again reuses the key; the file still reads.
        _ = try Kernel(instanceDirectory: instance.directory.path)
        let read = try instance.run(try instance.install(wat: SefsTests.reader, as: "reader"))
        #expect(read.stdout == "TOP SECRET note")
    }

    @Test(arguments: ["reorder", "newer-version", "wrong-key"])
    func multiChunkFileSealedOnTheHost(attack: String) throws {
        let instance = try instance(logLevel: .error)
        let keyText = try String(contentsOf: instance.directory.appendingPathComponent("sefs.key"), encoding: .utf8)
        var key = try Hex.decode(keyText.replacingOccurrences(of: "key:", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
        if attack == "wrong-key" { key = (0..<32).map { _ in UInt8.random(in: 0...255) } }
        // Three 64 KiB chunks of "SECRET…", sealed for note.txt with the mount's key (or another one).
        let output = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: SefsFileSystem.fileKey(mountKey: key, path: "note.txt"), output: output)
        try writer.write(Array(repeating: Array("SECRET!!".utf8), count: 3 * 8192 - 100).flatMap { $0 })
        _ = try writer.finish()
        var bytes = output.bytes
        let header = ChunkedFileHeader.size
        let record = try ChunkedFileHeader(parsing: Array(bytes[0..<header]), expected: .cloisterFile256).recordSize
        switch attack {
        case "reorder":
            let first = Array(bytes[header..<header + record])
            bytes.replaceSubrange(header..<header + record, with: bytes[header + record..<header + 2 * record])
            bytes.replaceSubrange(header + record..<header + 2 * record, with: first)
        case "newer-version":
            bytes[8] = 2
        default:
            break
        }
        try Data(bytes).write(to: instance.directory.appendingPathComponent("secure/note.txt"))
        let read = try instance.run(try instance.install(wat: SefsTests.reader, as: "reader"))
        #expect(read.status == .exited(Int32(Errno.io.rawValue)), "\(attack): \(read.status)")
        #expect(!read.stdout.contains("SECRET"))
    }

    @Test func multiChunkFileSealedOnTheHostReadsBack() throws {
        let instance = try instance()
        let keyText = try String(contentsOf: instance.directory.appendingPathComponent("sefs.key"), encoding: .utf8)
        let key = try Hex.decode(keyText.replacingOccurrences(of: "key:", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
        // A data owner seals a file for a sefs mount on the host: with the key for its path.
        let output = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: SefsFileSystem.fileKey(mountKey: key, path: "note.txt"), output: output)
        try writer.write(Array("data owner's input".utf8))
        _ = try writer.finish()
        try Data(output.bytes).write(to: instance.directory.appendingPathComponent("secure/note.txt"))
        let read = try instance.run(try instance.install(wat: SefsTests.reader, as: "reader"))
        #expect(read.status == .exited(0))
        #expect(read.stdout == "data owner's input")
    }

    // MARK: Names (issue 20, item 13)

    private func files(_ instance: TestInstance, _ arguments: String...) throws -> TestInstance.Run {
        try instance.run("/bin/files.wasm", arguments)
    }

    /// A whole file copied or moved to another name on the host once decrypted silently there.
    /// Each file is bound to its path now: under another name it is EIO (and logged), in place
    /// it still reads.
    @Test(arguments: ["copy", "move", "swap"])
    func fileUnderAnotherNameReadsAsEIO(attack: String) throws {
        let instance = try instance(logLevel: .error)
        #expect(try files(instance, "write", "/secure/alice.txt", "alice's salary").status == .exited(0))
        #expect(try files(instance, "write", "/secure/bob.txt", "bob's salary").status == .exited(0))
        let secure = instance.directory.appendingPathComponent("secure")
        let manager = FileManager.default
        let victim: String
        switch attack {
        case "copy":
            try manager.copyItem(at: secure.appendingPathComponent("alice.txt"), to: secure.appendingPathComponent("carol.txt"))
            victim = "carol.txt"
            #expect(try files(instance, "read", "/secure/alice.txt").stdout == "alice's salary\n")
        case "move":
            try manager.moveItem(at: secure.appendingPathComponent("alice.txt"), to: secure.appendingPathComponent("carol.txt"))
            victim = "carol.txt"
        default:
            try manager.moveItem(at: secure.appendingPathComponent("alice.txt"), to: secure.appendingPathComponent("swap"))
            try manager.moveItem(at: secure.appendingPathComponent("bob.txt"), to: secure.appendingPathComponent("alice.txt"))
            try manager.moveItem(at: secure.appendingPathComponent("swap"), to: secure.appendingPathComponent("bob.txt"))
            victim = "alice.txt"
            #expect(try files(instance, "read", "/secure/bob.txt").status == .exited(Int32(Errno.io.rawValue)))
        }
        let read = try files(instance, "read", "/secure/\(victim)")
        #expect(read.status == .exited(Int32(Errno.io.rawValue)), "\(attack): \(read.stdout)")
        #expect(!read.stdout.contains("salary"))
        #expect(instance.logSink.lines.contains { $0.contains("[error]") && $0.contains(victim) })
    }

    /// The guest's own renames keep its files readable: a moved file is resealed for its new
    /// name, a renamed folder has everything beneath it resealed, and a file renamed while open
    /// keeps taking writes. The old names are gone.
    @Test func guestRenamesResealForTheNewName() throws {
        let instance = try instance()
        #expect(try files(instance, "write", "/secure/a.txt", "alpha").status == .exited(0))
        #expect(try files(instance, "mkdir", "/secure/dir").status == .exited(0))
        #expect(try files(instance, "rename", "/secure/a.txt", "/secure/dir/b.txt").status == .exited(0))
        #expect(try files(instance, "read", "/secure/dir/b.txt").stdout == "alpha\n")
        #expect(try files(instance, "read", "/secure/a.txt").status == .exited(Int32(Errno.noent.rawValue)))
        #expect(try files(instance, "mkdir", "/secure/dir/deeper").status == .exited(0))
        #expect(try files(instance, "write", "/secure/dir/deeper/c.txt", "charlie").status == .exited(0))
        #expect(try files(instance, "rename", "/secure/dir", "/secure/moved").status == .exited(0))
        #expect(try files(instance, "read", "/secure/moved/b.txt").stdout == "alpha\n")
        #expect(try files(instance, "read", "/secure/moved/deeper/c.txt").stdout == "charlie\n")
        #expect(try files(instance, "rename-open", "/secure/moved/b.txt", "/secure/b.txt").status == .exited(0))
        #expect(try files(instance, "read", "/secure/b.txt").stdout == "alpha+\n")
        // Nothing but the files themselves is left on the host (no resealing copies).
        let left = try FileManager.default.subpathsOfDirectory(atPath: instance.directory.appendingPathComponent("secure").path).sorted()
        #expect(left == ["b.txt", "moved", "moved/deeper", "moved/deeper/c.txt"])
    }

    /// A file bound to one path cannot have two: hard links are EPERM, and nothing is made.
    @Test func hardLinksAreRefused() throws {
        let instance = try instance()
        #expect(try files(instance, "write", "/secure/a.txt", "alpha").status == .exited(0))
        #expect(try files(instance, "link", "/secure/a.txt", "/secure/b.txt").status == .exited(Int32(Errno.perm.rawValue)))
        #expect(try files(instance, "read", "/secure/b.txt").status == .exited(Int32(Errno.noent.rawValue)))
        #expect(try files(instance, "read", "/secure/a.txt").stdout == "alpha\n")
    }

    /// A folder rename that a crash cut short leaves a file under its new path still sealed for the
    /// old one, with its resealed copy beside it: reading it finishes the rename.
    @Test func anInterruptedRenameIsFinishedOnRead() throws {
        let instance = try instance(logLevel: .error)
        let keyText = try String(contentsOf: instance.directory.appendingPathComponent("sefs.key"), encoding: .utf8)
        let key = try Hex.decode(keyText.replacingOccurrences(of: "key:", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
        func sealed(_ text: String, for path: String) throws -> Data {
            let output = MemoryFile()
            let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: SefsFileSystem.fileKey(mountKey: key, path: path), output: output)
            try writer.write(Array(text.utf8))
            _ = try writer.finish()
            return Data(output.bytes)
        }
        let folder = instance.directory.appendingPathComponent("secure/new")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try sealed("zulu", for: "old/z.txt").write(to: folder.appendingPathComponent("z.txt"))
        try sealed("zulu", for: "new/z.txt").write(to: folder.appendingPathComponent(".z.txt.cloister-tmp"))
        #expect(try files(instance, "read", "/secure/new/z.txt").stdout == "zulu\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["z.txt"])
        // A copy that does not authenticate is not taken.
        try sealed("zulu", for: "old/y.txt").write(to: folder.appendingPathComponent("y.txt"))
        try sealed("forged", for: "elsewhere/y.txt").write(to: folder.appendingPathComponent(".y.txt.cloister-tmp"))
        let forged = try files(instance, "read", "/secure/new/y.txt")
        #expect(forged.status == .exited(Int32(Errno.io.rawValue)), "\(forged.stdout)")
    }
}
