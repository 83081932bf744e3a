import Foundation
import Testing

/// The C test guests, compiled to wasm32-wasi by `scripts/build-guests.sh` the first time a test
/// asks for them (the script skips what is up to date).
enum GuestPrograms {
    /// The package's root folder.
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<URL, GuestBuildError>?

    /// The folder holding `<name>.wasm` for every guest; builds them on first use.
    static func directory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let output = packageRoot.appendingPathComponent(".build/guests")
        let result = runTool("/bin/bash", [packageRoot.appendingPathComponent("scripts/build-guests.sh").path, output.path])
        built = result.status == 0 ? .success(output) : .failure(GuestBuildError(output: result.output))
        return try built!.get()
    }

    /// The path of guest `name` (without `.wasm`).
    static func path(_ name: String) throws -> URL {
        try directory().appendingPathComponent("\(name).wasm")
    }

    /// Runs a host tool and returns its status and combined output.
    static func runTool(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) -> (status: Int32, output: String) {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (-1, "\(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

struct GuestBuildError: Error, CustomStringConvertible {
    let output: String
    var description: String { "building the test guests failed:\n\(output)" }
}
