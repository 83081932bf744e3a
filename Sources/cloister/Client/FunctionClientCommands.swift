import ArgumentParser
import CloisterAPI
import CloisterClient
import Foundation

/// `cloister function register`.
struct FunctionRegisterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register a function (function owners).",
        discussion: """
            Example:
              cloister function register --name logistic-regression-train --executor-type python \\
                --payload examples/functions/logistic_regression_train.py \\
                --argument alg_alpha=0.3 --argument alg_iters=100 --input training_data --output model_file
            """)
    @Option(help: "The name (a builtin's own name for executor type builtin).") var name: String
    @Option(name: .customLong("executor-type"), help: "builtin, python or wasm.") var executorType: String
    @Option(help: "The payload file (a Python script or a WebAssembly module).") var payload: String?
    @Option(help: "What it does.") var description: String?
    @Flag(help: "Only its owner and --allow users may use it (their tasks need its owner's approval).") var `private` = false
    @Option(name: .customLong("argument"), help: ArgumentHelp("An argument KEY[=DEFAULT]; add ! after KEY to keep tasks from setting it.", valueName: "key=default")) var arguments: [String] = []
    @Option(name: .customLong("input"), help: ArgumentHelp("A declared input NAME (NAME? if optional).", valueName: "name")) var inputs: [String] = []
    @Option(name: .customLong("output"), help: ArgumentHelp("A declared output NAME (NAME? if optional).", valueName: "name")) var outputs: [String] = []
    @Option(name: .customLong("allow"), help: "A user who may use a private function.") var allowlist: [String] = []
    @Option(help: "How many tasks may be invoked in all.") var quota: Int?
    @Option(
        name: .customLong("connect"),
        help: ArgumentHelp(
            "A destination a wasm function may connect to, HOST:PORT: a network (203.0.113.0/24), an address ([::1] for IPv6) or a DNS name; port 0: any. Every task's participants approve these.",
            valueName: "host:port")) var connects: [String] = []
    @Option(
        name: .customLong("listen"), help: ArgumentHelp("An ADDRESS:PORT a wasm function may listen at (port 0: any).", valueName: "address:port"))
    var listens: [String] = []

    /// `HOST:PORT` split at its last colon (an IPv6 address in brackets).
    static func endpoint(_ text: String, option: String) throws -> (host: String, port: Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]) else {
            throw ValidationError("--\(option) takes HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    func run() async throws {
        var payloadText: String?
        if let payload {
            guard let data = FileManager.default.contents(atPath: payload) else { throw ValidationError("cannot read \(payload)") }
            payloadText = data.base64EncodedString()
        }
        let specs = arguments.map { text -> FunctionArgumentSpec in
            let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
            var key = parts[0]
            let fixed = key.hasSuffix("!")
            if fixed { key.removeLast() }
            return FunctionArgumentSpec(key: key, defaultValue: parts.count > 1 ? parts[1] : nil, allowOverwrite: !fixed)
        }
        let files = { (names: [String]) in
            names.map { $0.hasSuffix("?") ? FunctionFileSpec(name: String($0.dropLast()), optional: true) : FunctionFileSpec(name: $0) }
        }
        let network = FunctionNetwork(
            connect: try connects.map { try Self.endpoint($0, option: "connect") }.map { NetworkDestination(host: $0.host, port: $0.port) },
            listen: try listens.map { try Self.endpoint($0, option: "listen") }.map { NetworkListenAddress(address: $0.host, port: $0.port) })
        let request = RegisterFunctionRequest(
            name: name, description: description, executorType: executorType, payload: payloadText, public: !`private`,
            arguments: specs, inputs: files(inputs), outputs: files(outputs), userAllowlist: allowlist, usageQuota: quota,
            network: network.isEmpty ? nil : network)
        try await perform { try await $0.registerFunction(request) }
    }
}

struct FunctionListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the functions you may use.")
    func run() async throws { try await perform { try await $0.listFunctions() } }
}

struct FunctionGetCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "get", abstract: "Show a function.")
    @Argument(help: "The function's id.") var id: String
    func run() async throws { try await perform { try await $0.getFunction(id) } }
}

struct FunctionUpdateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update", abstract: "Change a function you own: the fields of a JSON file (as PATCH /v1/functions/{id} takes).")
    @Argument(help: "The function's id.") var id: String
    @Option(help: ArgumentHelp("A JSON file of the fields to change, sent as it is: the server refuses an unknown field.", valueName: "file")) var json: String
    func run() async throws {
        guard let data = FileManager.default.contents(atPath: json) else { CLIExit.error.fail("cannot read \(json)") }
        do {
            try StrictJSON.validate(Array(data))
        } catch {
            CLIExit.error.fail("\(json) is not valid JSON: \(error)")
        }
        try await perform { try await $0.updateFunction(id, json: data) }
    }
}

struct FunctionDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a function you own.")
    @Argument(help: "The function's id.") var id: String
    func run() async throws {
        try await perform { client -> Done in
            try await client.deleteFunction(id)
            return Done()
        }
    }
}

struct FunctionDisableCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "disable", abstract: "Disable a function you own: no new tasks.")
    @Argument(help: "The function's id.") var id: String
    func run() async throws { try await perform { try await $0.disableFunction(id) } }
}

struct FunctionUsageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "usage", abstract: "Show a function's invocations, quota and tasks by state.")
    @Argument(help: "The function's id.") var id: String
    func run() async throws { try await perform { try await $0.functionUsage(id) } }
}
