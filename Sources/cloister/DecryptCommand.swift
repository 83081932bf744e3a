import ArgumentParser
import ProtectedFiles

/// `cloister decrypt`: protected file → plaintext file, only if it authenticates.
struct DecryptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decrypt",
        abstract: "Decrypt and authenticate a protected file.",
        discussion: """
            Nothing is written to the output unless the whole input authenticates: the plaintext \
            goes to a temporary file beside the output, renamed only after the tag verifies and \
            removed on any failure (wrong key, wrong scheme, tampering, truncation, a newer \
            format version). --print-tag prints the verified tag. Errors exit 1 with one line.
            """
    )

    @OptionGroup var options: ProtectedFileOptions

    func run() throws {
        try options.perform(encrypting: false)
    }
}
