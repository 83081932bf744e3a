import Foundation
import Testing
@testable import Executors

@Suite struct GBDTTests {
    /// Teaclave's argument set, every value a string as Teaclave passes them.
    static func arguments(loss: String, featureSampleRatio: String = "1.0", dataSampleRatio: String = "1.0") -> FunctionArguments {
        [
            "feature_size": "2", "max_depth": "4", "iterations": "100", "shrinkage": "0.1",
            "feature_sample_ratio": .string(featureSampleRatio), "data_sample_ratio": .string(dataSampleRatio),
            "min_leaf_size": "1", "loss": .string(loss), "training_optimization_level": "2",
        ]
    }

    /// A grid over [-2, 2]² with `label` of each point.
    static func grid(_ steps: Int, offset: Double = 0, label: (Double, Double) -> Double) -> [(x: Double, y: Double, label: Double)] {
        (0..<steps).flatMap { i in
            (0..<steps).map { j in
                let x = -2 + 4 * (Double(i) + offset) / Double(steps), y = -2 + 4 * (Double(j) + offset) / Double(steps)
                return (x, y, label(x, y))
            }
        }
    }

    static func csv(_ rows: [(x: Double, y: Double, label: Double)], labels: Bool) -> String {
        rows.map { labels ? "\($0.x),\($0.y),\($0.label)" : "\($0.x),\($0.y)" }.joined(separator: "\n") + "\n"
    }

    /// Trains on `training`, predicts `test`; the predictions and the model file.
    static func trainAndPredict(
        _ workspace: Workspace, _ arguments: FunctionArguments, training: [(x: Double, y: Double, label: Double)],
        test: [(x: Double, y: Double, label: Double)]
    ) throws -> (predictions: [Double], model: String) {
        let trained = try workspace.run("builtin-gbdt-train", arguments, inputs: ["training_data": csv(training, labels: true)], outputs: ["trained_model"])
        #expect(trained.result == "Trained \(training.count) lines of data.")
        let model = try #require(trained.outputs["trained_model"])
        let predicted = try workspace.run(
            "builtin-gbdt-predict", inputs: ["model_file": model, "data_file": csv(test, labels: false)], outputs: ["result_file"])
        #expect(predicted.result == "Predict result has \(test.count) lines of data.")
        let lines = try #require(predicted.outputs["result_file"]).split(separator: "\n")
        #expect(lines.allSatisfy { $0.split(separator: ".").last?.count == 10 })
        return (lines.map { Double($0)! }, model)
    }

    static func rootMeanSquare(_ predictions: [Double], _ rows: [(x: Double, y: Double, label: Double)]) -> Double {
        (zip(predictions, rows).reduce(0) { $0 + pow($1.0 - $1.1.label, 2) } / Double(rows.count)).squareRoot()
    }

    @Test func squaredErrorFitsASmoothFunction() throws {
        let workspace = try Workspace()
        let function = { (x: Double, y: Double) in sin(x) + y * y / 2 }
        let training = Self.grid(20, label: function)
        let test = Self.grid(15, offset: 0.37, label: function)
        let (predictions, model) = try Self.trainAndPredict(workspace, Self.arguments(loss: "SquaredError"), training: training, test: test)
        let mean = test.reduce(0) { $0 + $1.label } / Double(test.count)
        let spread = Self.rootMeanSquare(test.map { _ in mean }, test)
        let error = Self.rootMeanSquare(predictions, test)
        #expect(error < 0.15 * spread, "RMSE \(error), spread \(spread)")
        #expect(model.contains(#""format" : "cloister-gbdt""#))
        #expect(model.contains(#""loss" : "SquaredError""#))
    }

    @Test func leastAbsoluteDeviationShrugsOffOutliers() throws {
        let workspace = try Workspace()
        var training = Self.grid(20) { x, y in x + y }
        for index in stride(from: 0, to: training.count, by: 17) { training[index].label += 40 }
        let test = Self.grid(10, offset: 0.5) { x, y in x + y }
        let lad = try Self.trainAndPredict(workspace, Self.arguments(loss: "LAD"), training: training, test: test).predictions
        let squared = try Self.trainAndPredict(workspace, Self.arguments(loss: "SquaredError"), training: training, test: test).predictions
        let ladError = Self.rootMeanSquare(lad, test), squaredError = Self.rootMeanSquare(squared, test)
        #expect(ladError < 0.5, "LAD RMSE \(ladError)")
        #expect(ladError < squaredError / 2, "LAD \(ladError), squared \(squaredError)")
    }

    @Test func logLikelihoodClassifiesWithProbabilities() throws {
        let workspace = try Workspace()
        let inside = { (x: Double, y: Double) -> Double in x * x + y * y < 1.5 ? 1 : -1 }
        let training = Self.grid(24, label: inside)
        let test = Self.grid(13, offset: 0.41, label: inside)
        let predictions = try Self.trainAndPredict(
            workspace, Self.arguments(loss: "LogLikelyhood", featureSampleRatio: "0.5", dataSampleRatio: "0.8"), training: training, test: test
        ).predictions
        #expect(predictions.allSatisfy { (0...1).contains($0) })
        let correct = zip(predictions, test).filter { ($0 > 0.5 ? 1.0 : -1.0) == $1.label }.count
        #expect(Double(correct) >= 0.9 * Double(test.count), "accuracy \(correct)/\(test.count)")
        // Labels 0 and 1 are read as -1 and 1.
        let zeroOne = training.map { ($0.x, $0.y, max(0, $0.label)) }
        let again = try Self.trainAndPredict(
            workspace, Self.arguments(loss: "LogLikelyhood", featureSampleRatio: "0.5", dataSampleRatio: "0.8"), training: zeroOne, test: test
        ).predictions
        #expect(again == predictions)
    }

    @Test func samplingIsDeterministic() throws {
        let workspace = try Workspace()
        let training = Self.grid(12) { x, y in x * y }
        let arguments = Self.arguments(loss: "SquaredError", featureSampleRatio: "0.5", dataSampleRatio: "0.7")
        let first = try Self.trainAndPredict(workspace, arguments, training: training, test: training)
        let second = try Self.trainAndPredict(workspace, arguments, training: training, test: training)
        #expect(first.model == second.model)
        let full = try Self.trainAndPredict(workspace, Self.arguments(loss: "SquaredError"), training: training, test: training)
        #expect(full.model != first.model)
    }

    @Test func trainingRejectsBadArguments() throws {
        let workspace = try Workspace()
        let data = ["training_data": "1,2,3\n4,5,6\n"]
        func train(_ change: (String, JSONValue?)) -> String? {
            var values = Self.arguments(loss: "SquaredError").values
            values[change.0] = change.1
            return failure { try workspace.run("builtin-gbdt-train", FunctionArguments(values), inputs: data, outputs: ["trained_model"]) }
        }
        #expect(train(("loss", nil)) == #"missing argument "loss""#)
        #expect(train(("loss", "Hinge")) == #"argument "loss" must be one of "SquaredError", "LogLikelyhood", "LAD", got "Hinge""#)
        #expect(train(("max_depth", "deep")) == #"argument "max_depth" must be an integer, got "deep""#)
        #expect(train(("iterations", 0)) == #"argument "iterations" must be at least 1, got 0"#)
        #expect(train(("shrinkage", -0.1)) == #"argument "shrinkage" must be greater than 0, got -0.1"#)
        #expect(train(("feature_sample_ratio", 1.5)) == #"argument "feature_sample_ratio" must be greater than 0 and at most 1, got 1.5"#)
        #expect(train(("data_sample_ratio", nil)) == #"missing argument "data_sample_ratio""#)
        #expect(train(("min_leaf_size", "0")) == #"argument "min_leaf_size" must be at least 1, got 0"#)
        #expect(train(("feature_size", 3)) == #"input "training_data" line 1: expected 4 comma-separated numbers, got 3"#)
        #expect(failure {
            try workspace.run("builtin-gbdt-train", Self.arguments(loss: "LogLikelyhood"), inputs: ["training_data": "1,2,1\n1,2,0.5\n"], outputs: ["trained_model"])
        } == #"input "training_data" line 2: the label (the last column) must be 1, 0 or -1 with LogLikelyhood"#)
    }

    @Test func predictionRejectsBadModels() throws {
        let workspace = try Workspace()
        let model = try #require(try workspace.run(
            "builtin-gbdt-train", Self.arguments(loss: "SquaredError"), inputs: ["training_data": Self.csv(Self.grid(5) { $0 + $1 }, labels: true)],
            outputs: ["trained_model"]
        ).outputs["trained_model"])
        func predict(_ model: String, _ data: String = "1,2\n") -> String? {
            failure { try workspace.run("builtin-gbdt-predict", inputs: ["model_file": model, "data_file": data], outputs: ["result_file"]) }
        }
        #expect(predict(model) == nil)
        #expect(predict(model, "1,2,3\n") == #"input "data_file" line 1: expected 2 comma-separated numbers, got 3"#)
        let logistic = #"{"format": "cloister-logistic-regression", "model": {"bias": 0, "feature_size": 2, "weights": [1, 2]}}"#
        #expect(predict(logistic) == #"input "model_file": not a cloister-gbdt model file"#)
        // A split pointing back at the root would loop forever: refused.
        let looping = model.replacingOccurrences(of: #""left" : 1,"#, with: #""left" : 0,"#)
        #expect(looping != model)
        #expect(predict(looping) == #"input "model_file": malformed cloister-gbdt model: node 0 is not a valid split"#)
    }

    @Test func treesSplitWhereTheTargetsChange() {
        var data = TrainingSet(featureSize: 2)
        for x in 0..<4 { data.append(features: [Double(x), 10], label: 0) }
        let builder = RegressionTreeBuilder(
            data: data, targets: [5, 5, 9, 9], features: [0, 1], maxDepth: 3, minLeafSize: 1,
            leafValue: { rows in rows.map { [5.0, 5, 9, 9][$0] }.reduce(0, +) / Double(rows.count) })
        let tree = builder.build(rows: [0, 1, 2, 3])
        #expect(tree.nodes.count == 3)
        #expect(tree.nodes[0].feature == 0 && tree.nodes[0].threshold == 1.5)
        #expect(tree.evaluate([0.5, 0]) == 5 && tree.evaluate([2.5, 0]) == 9)
        #expect(tree.problem(featureSize: 2) == nil)
        #expect(tree.problem(featureSize: 0) == "node 0 is not a valid split")
    }
}
