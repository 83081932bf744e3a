import CloisterAPI
import CloisterClient
import Foundation

/// The Teaclave example scenarios, end to end through the HTTP API with several users.
/// `cloister demo` runs them all; the tests run each.
public enum Scenarios {
    /// Every scenario by name, in the order the demo runs them.
    public static let all: [(name: String, run: @Sendable (ScenarioContext) async throws -> Void)] = [
        ("echo", echo),
        ("ordered set intersection", orderedSetIntersection),
        ("private join and compute", privateJoinAndCompute),
        ("python logistic regression", pythonLogisticRegression),
        ("webassembly psi", webAssemblyPSI),
        ("deadloop canceled", deadloopCanceled),
        ("pandas join (scientific python)", pandasJoin),
        ("scikit-learn across three hospitals", scikitLearnAcrossHospitals),
        ("matplotlib chart", matplotlibChart),
    ]

    /// One data owner runs the builtin echo: a lone participant's task is approved by creation.
    public static func echo(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["echo-user"], attribute: "echo")
        let user = owners["echo-user"]!
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "builtin-echo", description: "Returns its message", executorType: "builtin",
            arguments: [FunctionArgumentSpec(key: "message", defaultValue: "Hello", allowOverwrite: true)]))
        context.log("  registered \(function.id) (builtin-echo)")
        let task = try await user.client.createTask(CreateTaskRequest(
            functionId: function.id, functionArguments: ["message": "Hello, Cloister!"], executor: "builtin"))
        try expect(task.state == .approved, "a lone participant's task should be Approved at creation, is \(task.state.rawValue)")
        _ = try await user.client.invokeTask(task.id)
        let done = try await context.finish(user.client, task.id)
        try expect(done.result?.returnValue == "Hello, Cloister!", "echo returned \(done.result?.returnValue ?? "nothing")")
        context.log("  \(task.id): \(done.result!.returnValue)")
    }

    /// Two parties find the items they share; each gets an output only it can read.
    public static func orderedSetIntersection(_ context: ScenarioContext) async throws {
        let function = { (functionOwner: CloisterClient) in
            try await functionOwner.registerFunction(RegisterFunctionRequest(
                name: "builtin-ordered-set-intersect", executorType: "builtin",
                arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending", allowOverwrite: false)],
                inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
                outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
        }
        try await twoPartyIntersection(context, attribute: "psi-builtin", executor: "builtin", register: function)
    }

    /// The same two-party intersection, as a C program compiled to WebAssembly run in the LibOS.
    public static func webAssemblyPSI(_ context: ScenarioContext) async throws {
        guard let module = FileManager.default.contents(atPath: context.psiModule) else {
            throw ScenarioFailure("no PSI module at \(context.psiModule) (make guests builds it)")
        }
        let function = { (functionOwner: CloisterClient) in
            try await functionOwner.registerFunction(RegisterFunctionRequest(
                name: "wasm-psi", description: "Private set intersection in C", executorType: "wasm",
                payload: module.base64EncodedString(),
                inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
                outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
        }
        try await twoPartyIntersection(context, attribute: "psi-wasm", executor: "wasmkit", register: function)
    }

    private static func twoPartyIntersection(
        _ context: ScenarioContext, attribute: String, executor: String,
        register: (CloisterClient) async throws -> Function
    ) async throws {
        let (functionOwner, owners) = try await context.parties(["org1", "org2"], attribute: attribute)
        let (org1, org2) = (owners["org1"]!, owners["org2"]!)
        let function = try await register(functionOwner)
        context.log("  registered \(function.id) (\(function.name))")
        let task = try await org1.client.createTask(CreateTaskRequest(
            functionId: function.id, executor: executor,
            inputsOwnership: ["input_data1": [org1.id], "input_data2": [org2.id]],
            outputsOwnership: ["output_result1": [org1.id], "output_result2": [org2.id]]))
        let input1 = try await org1.registerInput("apple\nbanana\ncherry\ndate\n")
        let input2 = try await org2.registerInput("banana\ndate\nelderberry\n")
        let (output1, key1) = try await org1.registerOutput()
        let (output2, key2) = try await org2.registerOutput()
        _ = try await org1.client.assignData(task.id, inputs: ["input_data1": input1.id], outputs: ["output_result1": output1.id])
        let assigned = try await org2.client.assignData(task.id, inputs: ["input_data2": input2.id], outputs: ["output_result2": output2.id])
        try expect(assigned.state == .dataAssigned, "after both assigned data the task should be DataAssigned, is \(assigned.state.rawValue)")
        _ = try await org1.client.approveTask(task.id)
        let approved = try await org2.client.approveTask(task.id)
        try expect(approved.state == .approved, "after both approved the task should be Approved, is \(approved.state.rawValue)")
        _ = try await org1.client.invokeTask(task.id)
        let done = try await context.finish(org1.client, task.id)
        context.log("  \(task.id): \(done.result!.returnValue)")
        let result1 = try await org1.readOutput(output1.id, key: key1)
        let result2 = try await org2.readOutput(output2.id, key: key2)
        try expect(result1 == "0\n1\n0\n1\n", "org1's output is \(result1.debugDescription)")
        try expect(result2 == "1\n1\n0\n", "org2's output is \(result2.debugDescription)")
        context.log("  org1 reads its output: \(result1.split(separator: "\n").joined(separator: ","))")
        context.log("  org2 reads its output: \(result2.split(separator: "\n").joined(separator: ","))")
        do {
            _ = try await org1.client.downloadOutput(output2.id)
            throw ScenarioFailure("org1 could download org2's output")
        } catch let error as CloisterClientError {
            try expect(error.status == 404, "org1 reading org2's output got \(error)")
        }
    }

    /// Three banks learn the totals of the customers they share, nothing else.
    public static func privateJoinAndCompute(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["bank0", "bank1", "bank2"], attribute: "banks")
        let banks = (0..<3).map { owners["bank\($0)"]! }
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "builtin-private-join-and-compute", executorType: "builtin",
            arguments: [FunctionArgumentSpec(key: "num_user", defaultValue: "3", allowOverwrite: false)],
            inputs: (0..<3).map { FunctionFileSpec(name: "input_data\($0)") },
            outputs: (0..<3).map { FunctionFileSpec(name: "output_data\($0)") }))
        context.log("  registered \(function.id) (builtin-private-join-and-compute)")
        var inputsOwnership: [String: [String]] = [:]
        var outputsOwnership: [String: [String]] = [:]
        for (index, bank) in banks.enumerated() {
            inputsOwnership["input_data\(index)"] = [bank.id]
            outputsOwnership["output_data\(index)"] = [bank.id]
        }
        let task = try await banks[0].client.createTask(CreateTaskRequest(
            functionId: function.id, executor: "builtin", inputsOwnership: inputsOwnership, outputsOwnership: outputsOwnership))
        let ledgers = [
            "alice: 10\nbob: 20\ncarol: 30\n",
            "alice: 1\ncarol: 3\ndave: 4\n",
            "carol: 300\nalice: 100\nerin: 500\n",
        ]
        var keys: [(String, [UInt8])] = []
        for (index, bank) in banks.enumerated() {
            let input = try await bank.registerInput(ledgers[index])
            let (output, key) = try await bank.registerOutput()
            keys.append((output.id, key))
            _ = try await bank.client.assignData(task.id, inputs: ["input_data\(index)": input.id], outputs: ["output_data\(index)": output.id])
        }
        for bank in banks { _ = try await bank.client.approveTask(task.id) }
        _ = try await banks[0].client.invokeTask(task.id)
        _ = try await context.finish(banks[0].client, task.id)
        for (index, bank) in banks.enumerated() {
            let report = try await bank.readOutput(keys[index].0, key: keys[index].1)
            try expect(report == "alice, 111\ncarol, 333\n", "bank\(index)'s output is \(report.debugDescription)")
        }
        context.log("  \(task.id): each bank reads \"alice, 111; carol, 333\"")
    }

    /// A Python model trained on one party's data; its output chained into a prediction task.
    public static func pythonLogisticRegression(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["scientist"], attribute: "ml")
        let scientist = owners["scientist"]!
        let train = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "logistic-regression-train", executorType: "python",
            payload: try payload(context, "logistic_regression_train.py"),
            arguments: [
                FunctionArgumentSpec(key: "alg_alpha", defaultValue: "0.3", allowOverwrite: true),
                FunctionArgumentSpec(key: "alg_iters", defaultValue: "100", allowOverwrite: true),
            ],
            inputs: [FunctionFileSpec(name: "training_data")], outputs: [FunctionFileSpec(name: "model_file")]))
        let predict = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "logistic-regression-predict", executorType: "python",
            payload: try payload(context, "logistic_regression_predict.py"),
            inputs: [FunctionFileSpec(name: "model_file"), FunctionFileSpec(name: "data_file")],
            outputs: [FunctionFileSpec(name: "result_file")]))
        context.log("  registered \(train.id) and \(predict.id) (Python)")
        var samples = ""
        for index in 0..<40 {
            let x = Double(index % 20) / 10 - 1
            samples += "\(x),\(x * 0.5),\(x > 0 ? 1 : 0)\n"
        }
        let training = try await scientist.registerInput(samples)
        let (model, modelKey) = try await scientist.registerOutput()
        let trainTask = try await scientist.client.createTask(CreateTaskRequest(
            functionId: train.id, functionArguments: ["alg_iters": "200"], executor: "cpython",
            inputsOwnership: ["training_data": [scientist.id]], outputsOwnership: ["model_file": [scientist.id]]))
        _ = try await scientist.client.assignData(trainTask.id, inputs: ["training_data": training.id], outputs: ["model_file": model.id])
        _ = try await scientist.client.invokeTask(trainTask.id)
        let trained = try await context.finish(scientist.client, trainTask.id)
        context.log("  \(trainTask.id): \(trained.result!.returnValue)")
        let weights = try await scientist.readOutput(model.id, key: modelKey)
        try expect(weights.split(separator: "\n").count == 3, "the model should hold 3 weights, holds \(weights.debugDescription)")

        let modelInput = try await scientist.client.registerInput(fromOutput: model.id)
        let query = try await scientist.registerInput("-0.8,-0.4\n0.9,0.45\n")
        let (predictions, predictionsKey) = try await scientist.registerOutput()
        let predictTask = try await scientist.client.createTask(CreateTaskRequest(
            functionId: predict.id, executor: "cpython",
            inputsOwnership: ["model_file": [scientist.id], "data_file": [scientist.id]],
            outputsOwnership: ["result_file": [scientist.id]]))
        _ = try await scientist.client.assignData(
            predictTask.id, inputs: ["model_file": modelInput.id, "data_file": query.id], outputs: ["result_file": predictions.id])
        _ = try await scientist.client.invokeTask(predictTask.id)
        let predicted = try await context.finish(scientist.client, predictTask.id)
        let probabilities = try await scientist.readOutput(predictions.id, key: predictionsKey).split(separator: "\n").compactMap { Double($0) }
        try expect(probabilities.count == 2 && probabilities[0] < 0.5 && probabilities[1] > 0.5, "predictions \(probabilities)")
        context.log("  \(predictTask.id): \(predicted.result!.returnValue): \(probabilities)")
    }

    /// A function that never returns, canceled while it runs: the task ends Canceled and stays so.
    public static func deadloopCanceled(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["looper"], attribute: "loop")
        let user = owners["looper"]!
        let script = "def entrypoint(argv):\n    while True:\n        pass\n"
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "deadloop", executorType: "python", payload: Data(script.utf8).base64EncodedString()))
        let task = try await user.client.createTask(CreateTaskRequest(functionId: function.id, executor: "cpython"))
        _ = try await user.client.invokeTask(task.id)
        let deadline = ContinuousClock.now + .seconds(120)
        while try await user.client.getTask(task.id).state != .running {
            guard ContinuousClock.now < deadline else { throw ScenarioFailure("task \(task.id) never started running") }
            try await Task.sleep(for: .milliseconds(50))
        }
        context.log("  \(task.id) is Running; canceling it")
        let canceled = try await user.client.cancelTask(task.id)
        try expect(canceled.state == .canceled, "cancel answered \(canceled.state.rawValue)")
        let after = try await user.client.waitForTask(task.id)
        context.ended(user.client, task.id)
        try expect(after.state == .canceled && after.reason == "canceled by \(user.id)", "the task is \(after.state.rawValue): \(after.reason ?? "")")
        context.log("  \(task.id): \(after.state.rawValue) (\(after.reason!))")
    }

    static func payload(_ context: ScenarioContext, _ name: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: context.examples + "/" + name) else {
            throw ScenarioFailure("no \(name) in \(context.examples)")
        }
        return data.base64EncodedString()
    }
}
