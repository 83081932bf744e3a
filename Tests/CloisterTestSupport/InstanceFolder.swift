import Foundation
import WAT

/// A LibOS instance folder in a fresh temporary folder, for one test; removed when released.
///
/// Mounts, preopened as descriptors 3 to 8 in this order: `/` ramfs, `/bin` hostfs on the test
/// guests, `/data` hostfs on `<instance>/data`, `/tmp` ramfs, `/dev` devfs, `/xbin` hostfs on
/// `<instance>/extra-bin` (programs a test writes), then ``Options/extraMounts``.
public final class InstanceFolder: @unchecked Sendable {
    public let directory: URL

    /// What the folder's `Cloister.json` says.
    public struct Options: Sendable {
        public var debuggable = true
        public var heapSize = "32MB"
        public var userSpaceSize = "256MB"
        public var stackSize = "1MB"
        public var maxProcesses = 16
        public var maxThreads = 32
        public var entryPoints = ["/bin", "/xbin"]
        public var untrusted = ["TERM", "LANG"]
        /// More mount entries, as JSON text starting with a comma.
        public var extraMounts = ""
        /// The `"network"` object, as JSON text (empty: no `network` key, so no network).
        public var network = ""
        public init() {}
    }

    public init(_ options: Options = Options()) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-test-\(UUID().uuidString)")
        let guests = try TestGuests.directory()
        for folder in ["data", "extra-bin", "secure"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        // A key for a `sefs` mount of `secure/` (see ``sefsMount``).
        let key = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        try Data("key: \(key)\n".utf8).write(to: directory.appendingPathComponent("sefs.key"))
        let quoted = { (list: [String]) in list.map { "\"\($0)\"" }.joined(separator: ", ") }
        let config = """
            {
              "resource_limits": { "user_space_size": "\(options.userSpaceSize)", "max_num_of_processes": \(options.maxProcesses), "max_num_of_threads": \(options.maxThreads) },
              "process": { "default_stack_size": "\(options.stackSize)", "default_heap_size": "\(options.heapSize)" },
              "entry_points": [\(quoted(options.entryPoints))],
              "env": { "default": ["HOME=/root", "PATH=/bin"], "untrusted": [\(quoted(options.untrusted))] },
              "mount": [
                { "target": "/", "type": "ramfs" },
                { "target": "/bin", "type": "hostfs", "source": "\(guests.path)" },
                { "target": "/data", "type": "hostfs", "source": "./data" },
                { "target": "/tmp", "type": "ramfs" },
                { "target": "/dev", "type": "devfs" },
                { "target": "/xbin", "type": "hostfs", "source": "./extra-bin" }\(options.extraMounts)
              ],
              "metadata": { "debuggable": \(options.debuggable) }\(options.network.isEmpty ? "" : ",\n  \"network\": " + options.network)
            }
            """
        try Data(config.utf8).write(to: directory.appendingPathComponent("Cloister.json"))
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The folder's path.
    public var path: String { directory.path }

    /// A mount entry for ``Options/extraMounts``: `secure/` as `sefs` at `/secure`.
    public static let sefsMount = #", { "target": "/secure", "type": "sefs", "source": "./secure", "options": { "key_file": "./sefs.key" } }"#

    /// Host path of the `/data` mount.
    public var dataDirectory: URL { directory.appendingPathComponent("data") }

    /// Assembles `wat` and stores it as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    public func install(wat: String, as name: String) throws -> String {
        try install(bytes: try wat2wasm(wat), as: name)
    }

    /// Stores `bytes` as `/xbin/<name>.wasm`; returns the guest path.
    @discardableResult
    public func install(bytes: [UInt8], as name: String) throws -> String {
        try Data(bytes).write(to: directory.appendingPathComponent("extra-bin/\(name).wasm"))
        return "/xbin/\(name).wasm"
    }
}
