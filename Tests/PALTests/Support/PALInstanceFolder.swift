import Foundation
import WAT

/// An instance folder for one test, run through the PAL by a separate host program.
///
/// Mounts: `/` ramfs, `/bin` hostfs on the test guests, `/data` hostfs on `<instance>/data`,
/// `/tmp` ramfs, `/dev` devfs, `/xbin` hostfs on `<instance>/extra-bin` (programs a test writes).
/// Entry points `/bin` and `/xbin`; `env.untrusted` is `TERM` and `LANG`.
final class PALInstanceFolder: @unchecked Sendable {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-pal-\(UUID().uuidString)")
        let guests = try TestGuests.directory()
        for folder in ["data", "extra-bin"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        let config = """
            {
              "resource_limits": { "user_space_size": "256MB", "max_num_of_processes": 16, "max_num_of_threads": 32 },
              "process": { "default_stack_size": "1MB", "default_heap_size": "32MB" },
              "entry_points": ["/bin", "/xbin"],
              "env": { "default": ["HOME=/root", "PATH=/bin"], "untrusted": ["TERM", "LANG"] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": "\(guests.path)" },
                { "target": "/data", "type": "hostfs", "source": "./data" },
                { "target": "/tmp", "type": "ramfs" },
                { "target": "/dev", "type": "devfs" },
                { "target": "/xbin", "type": "hostfs", "source": "./extra-bin" }
              ],
              "metadata": { "debuggable": true }
            }
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("Cloister.json"))
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    var path: String { directory.path }

    /// Assembles `wat` and stores it as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    func install(wat: String, as name: String) throws -> String {
        try install(bytes: try wat2wasm(wat), as: name)
    }

    /// Stores `bytes` as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    func install(bytes: [UInt8], as name: String) throws -> String {
        try Data(bytes).write(to: directory.appendingPathComponent("extra-bin/\(name).wasm"))
        return "/xbin/\(name).wasm"
    }
}

/// The C test guests (`Tests/Guests`), built by `scripts/build-guests.sh` into a folder of the
/// PAL tests' own, so that they never race with another test target building the same outputs.
enum TestGuests {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<URL, PALTestError>?

    /// The folder holding `<name>.wasm` for every guest; builds them on first use.
    static func directory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let output = PALPaths.packageRoot.appendingPathComponent(".build/pal-guests")
        let script = PALPaths.packageRoot.appendingPathComponent("scripts/build-guests.sh")
        let result = Result { () throws(PALTestError) -> URL in
            guard let run = try? HostCommand.run(URL(fileURLWithPath: "/bin/bash"), [script.path, output.path], timeout: 600),
                run.status == 0
            else { throw PALTestError("building the test guests failed") }
            return output
        }
        built = result
        return try result.get()
    }
}

/// Guests written in WebAssembly text.
enum PALGuests {
    /// Writes "spinning\n" to stdout, then spins in a loop that makes no system call.
    static let spinner = """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 0) "\\08\\00\\00\\00\\09\\00\\00\\00")
          (data (i32.const 8) "spinning\\n")
          (func $spin (loop $forever (br $forever)))
          (func (export "_start")
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 32)))
            (call $spin)))
        """

    /// Traps at once (`unreachable`: SIGABRT).
    static let trap = "(module (memory (export \"memory\") 1) (func (export \"_start\") unreachable))"
}
