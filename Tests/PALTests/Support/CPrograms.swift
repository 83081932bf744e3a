import CloisterTestSupport
import Foundation

/// C programs built by the tests with the system compiler (`cc`) against the PAL header and
/// library: the `examples/cloister-run.c` sample and the programs in `Tests/PALTests/Programs`.
/// Each is built once per test run.
enum CPrograms {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var built: [String: Result<URL, PALTestError>] = [:]
    private static let output = PALPaths.packageRoot.appendingPathComponent(".build/pal-programs")

    /// The `cloister-run` sample.
    static func cloisterRun() throws -> URL {
        try build("cloister-run", source: PALPaths.examples.appendingPathComponent("cloister-run.c"))
    }

    /// The test program `Programs/<name>.c`.
    static func program(_ name: String) throws -> URL {
        try build(name, source: PALPaths.programs.appendingPathComponent("\(name).c"))
    }

    /// Compiles `source` with `cc -Wall -Wextra -Werror`, linking libcloister_pal, with an rpath to it.
    private static func build(_ name: String, source: URL) throws -> URL {
        lock.lock()
        defer { lock.unlock() }
        if let result = built[name] { return try result.get() }
        let result = Result { () throws(PALTestError) -> URL in
            do {
                try FileManager.default.createDirectory(at: output, withIntermediateDirectories: true)
                let library = try PALPaths.libraryDirectory().path
                let executable = output.appendingPathComponent(name)
                // Built under a unique name and moved into place: other test runs may share the folder.
                let temporary = output.appendingPathComponent("\(name).\(UUID().uuidString)")
                let compiled = try HostCommand.run(try HostCommand.tool("cc"), [
                    "-Wall", "-Wextra", "-Werror", "-I", PALPaths.headers.path, source.path,
                    "-L", library, "-lcloister_pal", "-Wl,-rpath,\(library)", "-lpthread", "-o", temporary.path,
                ])
                guard compiled.status == 0 else {
                    throw PALTestError("cc \(source.lastPathComponent) failed:\n\(compiled.stdout)\(compiled.stderr)")
                }
                guard rename(temporary.path, executable.path) == 0 else {
                    throw PALTestError("cannot move \(temporary.path) into place: errno \(errno)")
                }
                return executable
            } catch let error as PALTestError {
                throw error
            } catch {
                throw PALTestError("\(error)")
            }
        }
        built[name] = result
        return try result.get()
    }
}
