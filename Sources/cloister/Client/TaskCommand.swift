import ArgumentParser
import CloisterAPI
import CloisterClient
import Foundation

/// `cloister task …`.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Create, approve, run and follow tasks.",
        subcommands: [Create.self, List.self, Get.self, Assign.self, Approve.self, Decline.self, Invoke.self, Cancel.self, Wait.self, Receipt.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a task over a function.")
        @Option(help: "The function's id.") var function: String
        @Option(help: "builtin, cpython or wasmkit.") var executor: String
        @Option(name: .customLong("arg"), help: ArgumentHelp("An overwritable argument NAME=VALUE.", valueName: "name=value")) var arguments: [String] = []
        @Option(name: .customLong("input-owner"), help: ArgumentHelp("The owners of an input: NAME=user1,user2.", valueName: "name=users")) var inputOwners: [String] = []
        @Option(name: .customLong("output-owner"), help: ArgumentHelp("The owners of an output: NAME=user1,user2.", valueName: "name=users")) var outputOwners: [String] = []
        func run() async throws {
            var values: [String: ArgumentValue] = [:]
            for text in arguments {
                let (name, value) = try pair(text, option: "--arg")
                values[name] = ArgumentValue(value)
            }
            let inputs = try ownership(inputOwners, option: "--input-owner")
            let outputs = try ownership(outputOwners, option: "--output-owner")
            try await perform {
                try await $0.createTask(CreateTaskRequest(
                    functionId: function, functionArguments: values, executor: executor, inputsOwnership: inputs, outputsOwnership: outputs))
            }
        }

        private func ownership(_ texts: [String], option: String) throws -> [String: [String]] {
            var result: [String: [String]] = [:]
            for text in texts {
                let (name, users) = try pair(text, option: option)
                result[name] = users.split(separator: ",").map(String.init)
            }
            return result
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the tasks you take part in.")
        func run() async throws { try await perform { try await $0.listTasks() } }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a task, its state and result.")
        @Argument(help: "The task's id.") var id: String
        func run() async throws { try await perform { try await $0.getTask(id) } }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "assign", abstract: "Give a task your files for its declared inputs and outputs.")
        @Argument(help: "The task's id.") var id: String
        @Option(name: .customLong("input"), help: ArgumentHelp("NAME=INPUT_ID", valueName: "name=id")) var inputs: [String] = []
        @Option(name: .customLong("output"), help: ArgumentHelp("NAME=OUTPUT_ID", valueName: "name=id")) var outputs: [String] = []
        func run() async throws {
            let inputMap = Dictionary(try inputs.map { try pair($0, option: "--input") }, uniquingKeysWith: { _, last in last })
            let outputMap = Dictionary(try outputs.map { try pair($0, option: "--output") }, uniquingKeysWith: { _, last in last })
            try await perform { try await $0.assignData(id, inputs: inputMap, outputs: outputMap) }
        }
    }

    struct Approve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "approve", abstract: "Approve a task (every participant, once).")
        @Argument(help: "The task's id.") var id: String
        func run() async throws { try await perform { try await $0.approveTask(id) } }
    }

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "invoke", abstract: "Queue an approved task (its creator).")
        @Argument(help: "The task's id.") var id: String
        func run() async throws { try await perform { try await $0.invokeTask(id) } }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a task (its creator or an admin); a running one is stopped.")
        @Argument(help: "The task's id.") var id: String
        func run() async throws { try await perform { try await $0.cancelTask(id) } }
    }

    struct Decline: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "decline", abstract: "Say no to a task you take part in, before it is invoked: it is Canceled.")
        @Argument(help: "The task's id.") var id: String
        func run() async throws { try await perform { try await $0.declineTask(id) } }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "wait",
            abstract: "Wait until a task is Finished, Failed or Canceled; show it.",
            discussion: """
                Each state the task reaches is reported on standard error with what it waits for. \
                The wait stops at once (exit 5) when the task waits for your own action — a file to \
                assign, your approval, its invocation — since it cannot move without it. Exit 0 when \
                it Finished, 4 when it Failed or was Canceled (the task is printed either way), 6 when \
                --timeout passed first.
                """)
        @Argument(help: "The task's id.") var id: String
        @Option(help: "Give up after this many seconds.") var timeout: Int = 600
        @Flag(name: .shortAndLong, help: "Report nothing while waiting.") var quiet = false

        func validate() throws {
            guard timeout > 0 else { throw ValidationError("--timeout must be at least 1 second") }
        }

        func run() async throws {
            let quiet = quiet
            var final: TaskInfo?
            try await perform { client, session -> TaskInfo in
                let task = try await client.waitForTask(id, timeout: .seconds(timeout), as: session.user) { task in
                    guard !quiet else { return }
                    let progress = TaskProgress(task, user: session.user).description
                    FileHandle.standardError.write(Data("cloister: \(task.id) is \(task.state.rawValue)\(progress.isEmpty ? "" : ": " + progress)\n".utf8))
                }
                final = task
                return task
            }
            if let final, final.state != .finished {
                CLIExit.taskFailed.fail("task \(final.id) is \(final.state.rawValue): \(final.reason ?? "no reason recorded")")
            }
        }
    }
}
