import CloisterAPI
import CloisterClient
import Foundation

/// The scientific Python scenarios (`executor: "cpython-sci"`): the examples in
/// `examples/functions` over every party's encrypted data, through the HTTP API.
extension Scenarios {
    /// Two banks join their customer lists with pandas; each learns only the aggregate over the
    /// customers they share, in an output only it can read.
    public static func pandasJoin(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["bank-a", "bank-b"], attribute: "pandas")
        let (bankA, bankB) = (owners["bank-a"]!, owners["bank-b"]!)
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "pandas-join", description: "Two banks' shared customers, joined with pandas", executorType: "python",
            payload: try payload(context, "pandas_join.py"),
            inputs: [FunctionFileSpec(name: "bank_a"), FunctionFileSpec(name: "bank_b")],
            outputs: [FunctionFileSpec(name: "report_a"), FunctionFileSpec(name: "report_b")]))
        context.log("  registered \(function.id) (pandas-join)")
        let task = try await bankA.client.createTask(CreateTaskRequest(
            functionId: function.id, executor: "cpython-sci",
            inputsOwnership: ["bank_a": [bankA.id], "bank_b": [bankB.id]],
            outputsOwnership: ["report_a": [bankA.id], "report_b": [bankB.id]]))
        let customersA = "customer_id,balance\n" + (1...300).map { "c\($0),\($0 * 10)" }.joined(separator: "\n") + "\n"
        let customersB = "customer_id,loans\n" + (201...500).map { "c\($0),\($0)" }.joined(separator: "\n") + "\n"
        let inputA = try await bankA.registerInput(customersA)
        let inputB = try await bankB.registerInput(customersB)
        let (reportA, keyA) = try await bankA.registerOutput()
        let (reportB, keyB) = try await bankB.registerOutput()
        _ = try await bankA.client.assignData(task.id, inputs: ["bank_a": inputA.id], outputs: ["report_a": reportA.id])
        _ = try await bankB.client.assignData(task.id, inputs: ["bank_b": inputB.id], outputs: ["report_b": reportB.id])
        _ = try await bankA.client.approveTask(task.id)
        _ = try await bankB.client.approveTask(task.id)
        _ = try await bankA.client.invokeTask(task.id)
        let done = try await context.finish(bankA.client, task.id)
        let loans = (201...300).reduce(0, +)
        let a = try await bankA.readOutput(reportA.id, key: keyA)
        let b = try await bankB.readOutput(reportB.id, key: keyB)
        try expect(done.result?.returnValue == "100 shared customers", "the join returned \(done.result?.returnValue ?? "nothing")")
        try expect(a == "shared_customers,total_loans_at_b\n100,\(loans).00\n", "bank A's report is \(a.debugDescription)")
        try expect(b == "shared_customers,total_balance_at_a\n100,\(loans * 10).00\n", "bank B's report is \(b.debugDescription)")
        context.log("  \(task.id): \(done.result!.returnValue) (on \(done.result?.engine ?? "?")); A reads \(a.split(separator: "\n")[1]), B reads \(b.split(separator: "\n")[1])")
    }

    /// Two hospitals train a scikit-learn logistic regression on their rows together; a third
    /// evaluates it on its own rows.
    public static func scikitLearnAcrossHospitals(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["hospital-a", "hospital-b", "hospital-c"], attribute: "sklearn")
        let hospitals = ["hospital-a", "hospital-b", "hospital-c"].map { owners[$0]! }
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "sklearn-logistic", description: "Logistic regression across three hospitals", executorType: "python",
            payload: try payload(context, "sklearn_logistic.py"),
            arguments: [FunctionArgumentSpec(key: "C", defaultValue: "10", allowOverwrite: true)],
            inputs: [FunctionFileSpec(name: "train_a"), FunctionFileSpec(name: "train_b"), FunctionFileSpec(name: "test_c")],
            outputs: [FunctionFileSpec(name: "model"), FunctionFileSpec(name: "evaluation")]))
        context.log("  registered \(function.id) (sklearn-logistic)")
        let task = try await hospitals[0].client.createTask(CreateTaskRequest(
            functionId: function.id, executor: "cpython-sci",
            inputsOwnership: ["train_a": [hospitals[0].id], "train_b": [hospitals[1].id], "test_c": [hospitals[2].id]],
            outputsOwnership: ["model": [hospitals[0].id, hospitals[1].id], "evaluation": [hospitals[2].id]]))
        func rows(_ offset: Int, _ count: Int) -> String {
            // Deterministic points on both sides of x1 + x2 = 0; x3 is noise.
            "x1,x2,x3,label\n" + (0..<count).map { index -> String in
                let i = index + offset
                let x1 = Double((i * 37) % 200 - 100) / 100, x2 = Double((i * 61) % 200 - 100) / 100, x3 = Double((i * 17) % 200 - 100) / 100
                return "\(x1),\(x2),\(x3),\(x1 + x2 > 0 ? 1 : 0)"
            }.joined(separator: "\n") + "\n"
        }
        let inputs = [("train_a", rows(0, 300)), ("train_b", rows(1000, 300)), ("test_c", rows(5000, 200))]
        let (model, modelKey) = try await hospitals[0].registerOutput(owners: [hospitals[0].id, hospitals[1].id])
        let (evaluation, evaluationKey) = try await hospitals[2].registerOutput()
        for (index, hospital) in hospitals.enumerated() {
            let input = try await hospital.registerInput(inputs[index].1)
            var outputs: [String: String] = [:]
            if index == 0 { outputs["model"] = model.id }
            if index == 2 { outputs["evaluation"] = evaluation.id }
            _ = try await hospital.client.assignData(task.id, inputs: [inputs[index].0: input.id], outputs: outputs)
        }
        for hospital in hospitals { _ = try await hospital.client.approveTask(task.id) }
        _ = try await hospitals[0].client.invokeTask(task.id)
        let done = try await context.finish(hospitals[0].client, task.id)
        let report = try await hospitals[2].readOutput(evaluation.id, key: evaluationKey)
        let accuracy = Double(report.split(separator: "\n").last?.split(separator: ",").first ?? "") ?? 0
        try expect(accuracy > 0.9, "the evaluation is \(report.debugDescription)")
        let weights = try await hospitals[0].readOutput(model.id, key: modelKey).split(separator: "\n")
        try expect(weights.count == 4, "the model holds \(weights.count) weights")
        context.log("  \(task.id): \(done.result!.returnValue); hospital C reads accuracy \(accuracy), A and B the model's \(weights.count) weights")
    }

    /// A party's figures drawn as a chart with matplotlib inside the sandbox; the PNG is its output.
    public static func matplotlibChart(_ context: ScenarioContext) async throws {
        let (functionOwner, owners) = try await context.parties(["analyst"], attribute: "chart")
        let analyst = owners["analyst"]!
        let function = try await functionOwner.registerFunction(RegisterFunctionRequest(
            name: "matplotlib-chart", description: "A PNG chart of monthly figures", executorType: "python",
            payload: try payload(context, "matplotlib_chart.py"),
            arguments: [FunctionArgumentSpec(key: "title", defaultValue: "Monthly figures", allowOverwrite: true)],
            inputs: [FunctionFileSpec(name: "figures")], outputs: [FunctionFileSpec(name: "chart")]))
        let task = try await analyst.client.createTask(CreateTaskRequest(
            functionId: function.id, functionArguments: ["title": "Sales 2026"], executor: "cpython-sci",
            inputsOwnership: ["figures": [analyst.id]], outputsOwnership: ["chart": [analyst.id]]))
        let figures = try await analyst.registerInput("month,value\n" + (1...12).map { "\($0),\(100 + $0 * $0)" }.joined(separator: "\n") + "\n")
        let (chart, key) = try await analyst.registerOutput()
        _ = try await analyst.client.assignData(task.id, inputs: ["figures": figures.id], outputs: ["chart": chart.id])
        _ = try await analyst.client.invokeTask(task.id)
        let done = try await context.finish(analyst.client, task.id)
        let png = try await analyst.readOutputBytes(chart.id, key: key)
        try expect(png.starts(with: [0x89, 0x50, 0x4e, 0x47]), "the chart is not a PNG")
        context.log("  \(task.id): \(done.result!.returnValue), a \(png.count)-byte PNG only the analyst can read")
    }
}
