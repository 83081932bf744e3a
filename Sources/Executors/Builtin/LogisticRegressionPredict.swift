/// `builtin-logistic-regression-predict`: applies a logistic regression model.
///
/// Inputs `model_file` (from `builtin-logistic-regression-train`) and `data_file` (CSV rows of
/// the model's `feature_size` numbers). Output `result_file`: P(label 1) for each row, one a line
/// with 4 decimals (as Teaclave). Result "Predicted N lines of data.". Rows are streamed.
enum LogisticRegressionPredict: BuiltinFunction {
    static let name = "builtin-logistic-regression-predict"
    static let signature = BuiltinSignature(arguments: [], inputs: ["model_file", "data_file"], outputs: ["result_file"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let model = try ModelFile.read(LogisticRegressionModel.self, from: try runtime.openInput("model_file"))
        let count = try writePredictions(
            from: try runtime.openInput("data_file"), featureSize: model.featureSize,
            to: try runtime.createOutput("result_file"), format: "%.4f", model.probability)
        return "Predicted \(count) lines of data."
    }
}
