import ArgumentParser
import CloisterAPI
import CloisterClient

/// `cloister user …`.
struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Register and manage users.",
        subcommands: [Register.self, List.self, Get.self, Update.self, Delete.self, Password.self, Reset.self])

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "register",
            abstract: "Register a user (admins anyone; DataOwnerManager-<attr> DataOwner-<attr>).",
            discussion: """
                The new user's password (8 to 72 bytes) comes from CLOISTER_NEW_PASSWORD, else from a \
                prompt that does not echo (asked twice) when standard input is a terminal, else from \
                the first line of standard input.
                """)
        @Option(help: "The new user's id.") var id: String
        @Option(help: "PlatformAdmin, FunctionOwner, DataOwnerManager-<attr> or DataOwner-<attr>.") var role: String
        @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input, even when CLOISTER_NEW_PASSWORD is set.")
        var passwordStdin = false
        func run() async throws {
            _ = try ClientSession.load()
            let password = try Passwords.read(
                environment: passwordStdin ? nil : "CLOISTER_NEW_PASSWORD", prompt: "Password for the new user \(id): ", confirm: true)
            try await perform { try await $0.registerUser(RegisterUserRequest(id: id, password: password, role: role)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the users you registered (admins: all).")
        func run() async throws { try await perform { try await $0.listUsers() } }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a user.")
        @Argument(help: "The user's id.") var id: String
        func run() async throws { try await perform { try await $0.getUser(id) } }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a user's role.")
        @Argument(help: "The user's id.") var id: String
        @Option(help: "The new role.") var role: String
        func run() async throws { try await perform { try await $0.updateUser(id, UpdateUserRequest(role: role)) } }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a user.")
        @Argument(help: "The user's id.") var id: String
        func run() async throws {
            try await perform { client -> Done in
                try await client.deleteUser(id)
                return Done()
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd", abstract: "Change your password; log in again afterwards.",
            discussion: """
                The current password comes from CLOISTER_PASSWORD and the new one from \
                CLOISTER_NEW_PASSWORD; else from prompts that do not echo when standard input is a \
                terminal; else from the first two lines of standard input (the current one, then the new one).
                """)
        func run() async throws {
            let session = try ClientSession.load()
            let old = try Passwords.read(environment: "CLOISTER_PASSWORD", prompt: "Current password of \(session.user): ")
            let new = try Passwords.read(environment: "CLOISTER_NEW_PASSWORD", prompt: "New password: ", confirm: true)
            try await perform { client -> Done in
                try await client.changePassword(session.user, old: old, new: new)
                return Done()
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset", abstract: "Give a user you manage a new random password (printed).")
        @Argument(help: "The user's id.") var id: String
        func run() async throws { try await perform { ResetPasswordResponse(password: try await $0.resetPassword(id)) } }
    }
}
