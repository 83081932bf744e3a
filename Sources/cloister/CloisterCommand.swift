import APIServer
import ArgumentParser

/// `cloister`: the command-line front of the Cloister platform and its LibOS.
@main
struct CloisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cloister",
        abstract: "The Cloister platform and its library OS: serve, use the API, run WebAssembly programs and functions.",
        discussion: """
            The client commands (login, logout, user, function, data, task, audit) use the session \
            `cloister login` keeps. Their exit statuses:
            \(CLIExit.table)
            """,
        version: APIServer.version,
        subcommands: [
            ServeCommand.self, WorkerCommand.self, MigrateCommand.self, DemoCommand.self, BenchPlatformCommand.self, LoginCommand.self, LogoutCommand.self, UserCommand.self,
            FunctionCommand.self, DataCommand.self, TaskCommand.self, ReceiptCommand.self, AuditCommand.self, NewCommand.self, RunCommand.self,
            EncryptCommand.self, DecryptCommand.self, KeygenCommand.self,
        ]
    )

    /// `cloister run` in its plain shapes starts the guest at once (``GuestRun/quick(_:)``);
    /// everything else goes through ArgumentParser.
    static func main() async {
        let arguments = CommandLine.arguments.dropFirst()
        if arguments.first == "run", let run = GuestRun.quick(arguments.dropFirst()) {
            run.executeAndExit()
        }
        await main(nil)
    }
}
