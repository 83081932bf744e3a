import Foundation

/// The C test guests (`Tests/Guests`, `Benchmarks/guests`), compiled to wasm32-wasi by
/// `scripts/build-guests.sh` the first time a test asks for them. The script skips what is up
/// to date and takes a lock, so test targets running at once share one output folder.
public enum TestGuests {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: Result<URL, GuestBuildError>?

    /// The folder holding `<name>.wasm` for every guest; builds them on first use.
    public static func directory() throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let built { return try built.get() }
        let output = PackagePaths.root.appendingPathComponent(".build/guests")
        let script = PackagePaths.root.appendingPathComponent("scripts/build-guests.sh")
        let result = HostTool.run("/bin/bash", [script.path, output.path])
        built = result.status == 0 ? .success(output) : .failure(GuestBuildError(output: result.output))
        return try built!.get()
    }

    /// The path of guest `name` (without `.wasm`).
    public static func path(_ name: String) throws -> URL {
        try directory().appendingPathComponent("\(name).wasm")
    }
}

/// Building the test guests failed; the script's output says why.
public struct GuestBuildError: Error, CustomStringConvertible {
    public let output: String
    public var description: String { "building the test guests failed:\n\(output)" }
}

/// Runs host programs for tests.
public enum HostTool {
    /// Runs `executable` to completion (in `folder` when given); returns its status and combined output.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil, in folder: URL? = nil
    ) -> (status: Int32, output: String) {
        let process = Foundation.Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let folder { process.currentDirectoryURL = folder }
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

/// Waits until `condition` holds, checking every 10 ms, for at most `seconds`.
public func eventually(within seconds: Double = 30, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(10_000)
    }
    return condition()
}
