/// `builtin-gbdt-train`: trains a gradient-boosted regression-tree model.
///
/// Arguments `feature_size` (≥ 1), `max_depth` (≥ 1), `iterations` (the number of trees, ≥ 1),
/// `shrinkage` (the learning rate, > 0), `feature_sample_ratio` and `data_sample_ratio` (in
/// (0, 1]: the share of features and of rows each tree sees), `min_leaf_size` (≥ 1) and `loss`
/// ("SquaredError", "LogLikelyhood" or "LAD", as the `gbdt` crate names them; see `BoostingLoss`).
/// Teaclave's `training_optimization_level` (a speed setting of that crate) is accepted and has no
/// effect. Input `training_data`: CSV rows of `feature_size` numbers and a label last. Output
/// `trained_model`: the model (see `GradientBoostedTrees`). Result "Trained N lines of data.".
///
/// Boosting passes over every row for each tree, so the rows are held in memory.
enum GBDTTrain: BuiltinFunction {
    static let name = "builtin-gbdt-train"
    static let signature = BuiltinSignature(arguments: ["feature_size", "loss", "iterations", "max_depth", "shrinkage", "min_leaf_size", "feature_sample_ratio", "data_sample_ratio"], inputs: ["training_data"], outputs: ["trained_model"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let featureSize = try arguments.integer("feature_size", in: 1...Int.max)
        let loss = try arguments.choice("loss", from: BoostingLoss.allCases.map { ($0.rawValue, $0) })
        let parameters = GradientBoostedTrees.Parameters(
            loss: loss,
            iterations: try arguments.integer("iterations", in: 1...Int.max),
            maxDepth: try arguments.integer("max_depth", in: 1...Int.max),
            shrinkage: try arguments.double("shrinkage", greaterThan: 0),
            minLeafSize: try arguments.integer("min_leaf_size", in: 1...Int.max),
            featureSampleRatio: try arguments.double("feature_sample_ratio", greaterThan: 0, atMost: 1),
            dataSampleRatio: try arguments.double("data_sample_ratio", greaterThan: 0, atMost: 1))
        let data = try runtime.openInput("training_data").readTrainingSet(
            featureSize: featureSize, label: loss.trainingLabel, labelRequirement: loss.labelRequirement)
        let model = GradientBoostedTrees(training: data, parameters: parameters)
        try ModelFile.write(model, to: try runtime.createOutput("trained_model"))
        return "Trained \(data.count) lines of data."
    }
}
