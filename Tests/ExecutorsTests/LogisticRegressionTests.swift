import Foundation
import Testing
@testable import Executors

@Suite struct LogisticRegressionTests {
    /// Points of the plane labelled by the side of the line x + 2y = 0.5 they are on, at least 0.2 away from it.
    static func separable(_ count: Int, seed: UInt64) -> [(x: Double, y: Double, label: Int)] {
        var generator = SplitMix64(seed: seed)
        var points: [(Double, Double, Int)] = []
        while points.count < count {
            let x = Double(generator.next() % 4001) / 1000 - 2
            let y = Double(generator.next() % 4001) / 1000 - 2
            let side = x + 2 * y - 0.5
            if abs(side) >= 0.2 { points.append((x, y, side > 0 ? 1 : 0)) }
        }
        return points
    }

    static let arguments: FunctionArguments = ["alg_alpha": "0.5", "alg_iters": "1000", "feature_size": "2"]

    @Test func trainsAModelThatSeparatesTheClasses() throws {
        let workspace = try Workspace()
        let training = Self.separable(300, seed: 1).map { "\($0.x),\($0.y),\($0.label)" }.joined(separator: "\n")
        let trained = try workspace.run(
            "builtin-logistic-regression-train", Self.arguments, inputs: ["training_data": training], outputs: ["model_file"])
        #expect(trained.result == "Trained 300 lines of data.")
        let model = try #require(trained.outputs["model_file"])
        #expect(model.contains(#""format" : "cloister-logistic-regression""#))
        #expect(model.contains(#""feature_size" : 2"#))

        let test = Self.separable(200, seed: 2)
        let predicted = try workspace.run(
            "builtin-logistic-regression-predict",
            inputs: ["model_file": model, "data_file": test.map { "\($0.x), \($0.y)" }.joined(separator: "\n") + "\n"],
            outputs: ["result_file"])
        #expect(predicted.result == "Predicted 200 lines of data.")
        let lines = try #require(predicted.outputs["result_file"]).split(separator: "\n")
        #expect(lines.count == 200)
        #expect(lines.allSatisfy { $0.count == 6 && $0.hasPrefix("0.") || $0 == "1.0000" })
        let probabilities = lines.map { Double($0)! }
        let correct = zip(probabilities, test).filter { ($0 > 0.5 ? 1 : 0) == $1.label }.count
        #expect(correct >= 196, "accuracy \(correct)/200")
    }

    @Test func trainingRejectsBadArguments() throws {
        let workspace = try Workspace()
        let data = ["training_data": "1,2,1\n-1,-2,0\n"]
        func train(_ arguments: FunctionArguments) -> String? {
            failure { try workspace.run("builtin-logistic-regression-train", arguments, inputs: data, outputs: ["model_file"]) }
        }
        #expect(train(["alg_iters": 10, "feature_size": 2]) == #"missing argument "alg_alpha""#)
        #expect(train(["alg_alpha": 0.1, "alg_iters": "abc", "feature_size": 2]) == #"argument "alg_iters" must be an integer, got "abc""#)
        #expect(train(["alg_alpha": 0, "alg_iters": 10, "feature_size": 2]) == #"argument "alg_alpha" must be greater than 0, got 0"#)
        #expect(train(["alg_alpha": 0.1, "alg_iters": 10, "feature_size": 0]) == #"argument "feature_size" must be at least 1, got 0"#)
        #expect(train(["alg_alpha": 0.1, "alg_iters": 10, "feature_size": 3])
            == #"input "training_data" line 1: expected 4 comma-separated numbers, got 3"#)
    }

    @Test func trainingRejectsBadData() throws {
        let workspace = try Workspace()
        func train(_ data: String) -> String? {
            failure { try workspace.run("builtin-logistic-regression-train", Self.arguments, inputs: ["training_data": data], outputs: ["model_file"]) }
        }
        #expect(train("1,2,1\n\n3,x,0\n") == #"input "training_data" line 3: column 2 is not a number"#)
        #expect(train("1,2,1\n3,4,2\n") == #"input "training_data" line 2: the label (the last column) must be 0 or 1"#)
        #expect(train("\n\n") == #"input "training_data": no data rows"#)
        #expect(train("1,inf,1\n") == #"input "training_data" line 1: column 2 is not a number"#)
        #expect(!workspace.exists("out-model_file"))
    }

    @Test func predictionRejectsBadModelsAndData() throws {
        let workspace = try Workspace()
        let model = try #require(try workspace.run(
            "builtin-logistic-regression-train", Self.arguments, inputs: ["training_data": "1,2,1\n-1,-2,0\n"], outputs: ["model_file"]
        ).outputs["model_file"])
        func predict(model: String, data: String) -> String? {
            failure { try workspace.run("builtin-logistic-regression-predict", inputs: ["model_file": model, "data_file": data], outputs: ["result_file"]) }
        }
        #expect(predict(model: model, data: "1,2\n3\n") == #"input "data_file" line 2: expected 2 comma-separated numbers, got 1"#)
        #expect(predict(model: "{\"weights\": [1]}", data: "1,2\n") == #"input "model_file": not a cloister-logistic-regression model file"#)
        #expect(predict(model: model.replacingOccurrences(of: "\"feature_size\" : 2", with: "\"feature_size\" : 3"), data: "1,2\n")
            == #"input "model_file": malformed cloister-logistic-regression model: 2 weights for 3 features"#)
        #expect(predict(model: model.replacingOccurrences(of: "\"bias\"", with: "\"offset\""), data: "1,2\n")
            == #"input "model_file": malformed cloister-logistic-regression model"#)
        #expect(failure { try workspace.run("builtin-logistic-regression-predict", inputs: ["model": model, "data_file": "1,2"], outputs: ["result_file"]) }
            == #"no input named "model_file"; declared inputs: data_file, model"#)
    }
}
