import CloisterTestSupport
import Foundation

/// Where the PAL tests find the package, the ABI headers and the library under test.
enum PALPaths {
    /// The package's root folder.
    static var packageRoot: URL { PackagePaths.root }

    /// The folder holding `cloister.h` and `cloister_pal_api.h`.
    static var headers: URL { packageRoot.appendingPathComponent("Sources/CCloisterABI/include") }

    /// The `examples` folder (the C and Python samples).
    static var examples: URL { packageRoot.appendingPathComponent("examples") }

    /// The C test programs of this target.
    static var programs: URL { packageRoot.appendingPathComponent("Tests/PALTests/Programs") }

    /// The file name of the library on this platform.
    static var libraryName: String {
        #if os(macOS)
        "libcloister_pal.dylib"
        #else
        "libcloister_pal.so"
        #endif
    }

    /// The folder holding the library: `$CLOISTER_PAL_LIB_DIR`, else the build products folder
    /// of this test run (SwiftPM builds every product, the dynamic library too, before tests).
    static func libraryDirectory() throws -> URL {
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["CLOISTER_PAL_LIB_DIR"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent())
        candidates.append(packageRoot.appendingPathComponent(".build/debug"))
        for directory in candidates where FileManager.default.fileExists(atPath: directory.appendingPathComponent(libraryName).path) {
            return directory
        }
        throw PALTestError("\(libraryName) not found in \(candidates.map(\.path)); build it with `swift build --product cloister_pal`")
    }

    /// The library under test.
    static func library() throws -> URL { try libraryDirectory().appendingPathComponent(libraryName) }
}

/// A failure of the test machinery itself (a missing tool, a program that did not build).
struct PALTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
