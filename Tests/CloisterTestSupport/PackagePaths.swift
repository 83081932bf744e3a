import Foundation

/// Folders of the package, for tests.
public enum PackagePaths {
    /// The package's root folder.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

/// The `cloister` executable, built beside the test bundle (`swift build --build-tests` builds it).
public enum CloisterExecutable {
    public static var url: URL {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("cloister")
        if FileManager.default.isExecutableFile(atPath: besideTests.path) { return besideTests }
        return PackagePaths.root.appendingPathComponent(".build/debug/cloister")
    }
}
