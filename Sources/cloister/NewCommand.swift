import ArgumentParser
import Foundation
import LibOS

/// `cloister new DIR`: writes an instance folder with the documented default config.
struct NewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "new",
        abstract: "Create an instance folder: Cloister.json, README.md, image/bin/ and data/."
    )

    @Argument(help: "The folder to create (it must not exist or be empty).")
    var directory: String

    func run() throws {
        let manager = FileManager.default
        let url = URL(fileURLWithPath: directory)
        if let contents = try? manager.contentsOfDirectory(atPath: url.path), !contents.isEmpty {
            throw ValidationError("\(directory) already exists and is not empty")
        }
        try manager.createDirectory(at: url.appendingPathComponent("image/bin"), withIntermediateDirectories: true)
        try manager.createDirectory(at: url.appendingPathComponent("data"), withIntermediateDirectories: true)
        try Data(InstanceConfig.defaultJSON.utf8).write(to: url.appendingPathComponent(InstanceConfig.fileName))
        try Data(InstanceConfig.readme.utf8).write(to: url.appendingPathComponent("README.md"))
        print("Created instance \(directory): put programs in \(directory)/image/bin and run them as /bin/<name>.")
    }
}
