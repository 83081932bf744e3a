import ArgumentParser
import CloisterAPI
import CloisterClient

/// `cloister task …`.
struct TaskCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "task", abstract: "Create, approve, run and follow tasks.",
        subcommands: [Create.self, List.self, Get.self, Assign.self, Approve.self, Invoke.self, Cancel.self, Wait.self, Receipt.self])

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
        @Argument var id: String
        func run() async throws { try await perform { try await $0.getTask(id) } }
    }

    struct Assign: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "assign", abstract: "Give a task your files for its declared inputs and outputs.")
        @Argument var id: String
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
        @Argument var id: String
        func run() async throws { try await perform { try await $0.approveTask(id) } }
    }

    struct Invoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "invoke", abstract: "Queue an approved task (its creator).")
        @Argument var id: String
        func run() async throws { try await perform { try await $0.invokeTask(id) } }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "cancel", abstract: "Cancel a task (its creator or an admin); a running one is stopped.")
        @Argument var id: String
        func run() async throws { try await perform { try await $0.cancelTask(id) } }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "wait", abstract: "Wait until a task is Finished, Failed or Canceled; show it.")
        @Argument var id: String
        @Option(help: "Give up after this many seconds.") var timeout: Int = 600
        func run() async throws { try await perform { try await $0.waitForTask(id, timeout: .seconds(timeout)) } }
    }
}
