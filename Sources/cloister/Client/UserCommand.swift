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
            discussion: "The new user's password is read from standard input.")
        @Option(help: "The new user's id.") var id: String
        @Option(help: "PlatformAdmin, FunctionOwner, DataOwnerManager-<attr> or DataOwner-<attr>.") var role: String
        func run() async throws {
            let password = try readPasswordFromStandardInput()
            try await perform { try await $0.registerUser(RegisterUserRequest(id: id, password: password, role: role)) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the users you registered (admins: all).")
        func run() async throws { try await perform { try await $0.listUsers() } }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a user.")
        @Argument var id: String
        func run() async throws { try await perform { try await $0.getUser(id) } }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "update", abstract: "Change a user's role.")
        @Argument var id: String
        @Option var role: String
        func run() async throws { try await perform { try await $0.updateUser(id, UpdateUserRequest(role: role)) } }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a user.")
        @Argument var id: String
        func run() async throws {
            try await perform { client -> Done in
                try await client.deleteUser(id)
                return Done()
            }
        }
    }

    struct Password: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "passwd", abstract: "Change your password (standard input: the old one, then the new one).")
        func run() async throws {
            let session = try ClientSession.load()
            let old = try readPasswordFromStandardInput()
            let new = try readPasswordFromStandardInput()
            try await perform { client -> Done in
                try await client.changePassword(session.user, old: old, new: new)
                return Done()
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "reset", abstract: "Give a user you manage a new random password (printed).")
        @Argument var id: String
        func run() async throws { try await perform { ResetPasswordResponse(password: try await $0.resetPassword(id)) } }
    }
}
