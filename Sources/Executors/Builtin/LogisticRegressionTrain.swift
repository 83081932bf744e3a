/// `builtin-logistic-regression-train`: trains a logistic regression model.
///
/// Arguments `alg_alpha` (the learning rate, > 0), `alg_iters` (gradient descent iterations,
/// ≥ 1) and `feature_size` (≥ 1). Input `training_data`: CSV rows of `feature_size` numbers and a
/// label, 0 or 1, last. Output `model_file`: the model (see `LogisticRegressionModel`). Result
/// "Trained N lines of data.".
///
/// Gradient descent passes over every row at each iteration, so the rows are held in memory.
enum LogisticRegressionTrain: BuiltinFunction {
    static let name = "builtin-logistic-regression-train"
    static let signature = BuiltinSignature(arguments: ["alg_alpha", "alg_iters", "feature_size"], inputs: ["training_data"], outputs: ["model_file"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let alpha = try arguments.double("alg_alpha", greaterThan: 0)
        let iterations = try arguments.integer("alg_iters", in: 1...Int.max)
        let featureSize = try arguments.integer("feature_size", in: 1...Int.max)
        let data = try runtime.openInput("training_data").readTrainingSet(
            featureSize: featureSize, label: { $0 == 0 || $0 == 1 ? $0 : nil }, labelRequirement: "must be 0 or 1")
        let model = LogisticRegressionModel(training: data, alpha: alpha, iterations: iterations)
        try ModelFile.write(model, to: try runtime.createOutput("model_file"))
        return "Trained \(data.count) lines of data."
    }
}
