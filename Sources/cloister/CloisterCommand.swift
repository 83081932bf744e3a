import ArgumentParser

/// `cloister`: the command-line front of the Cloister LibOS.
@main
struct CloisterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloister",
        abstract: "Run WebAssembly programs and functions inside the Cloister library OS.",
        subcommands: [NewCommand.self, RunCommand.self, FunctionCommand.self, EncryptCommand.self, DecryptCommand.self, KeygenCommand.self]
    )
}
