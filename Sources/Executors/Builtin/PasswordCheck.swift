import Foundation

/// `builtin-password-check`: is a password among the exposed ones?
///
/// Inputs `password` (its first line is the password) and `exposed_passwords` (one a line),
/// compared with surrounding whitespace trimmed. Result "true" or "false". The exposed passwords
/// are streamed, and read to the end even after a match.
enum PasswordCheck: BuiltinFunction {
    static let name = "builtin-password-check"
    static let signature = BuiltinSignature(arguments: [], inputs: ["password", "exposed_passwords"], outputs: [])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let passwordInput = try runtime.openInput("password")
        let text = try passwordInput.readText()
        let password = text.prefix(while: { !$0.isNewline }).trimmingCharacters(in: .whitespaces)
        guard !password.isEmpty else {
            throw ExecutorError.badInput(name: passwordInput.name, line: 1, reason: "no password on the first line")
        }
        let exposed = try runtime.openInput("exposed_passwords")
        var found = false
        while let line = try exposed.nextLine() {
            if line.trimmingCharacters(in: .whitespaces) == password { found = true }
        }
        return found ? "true" : "false"
    }
}
