/// `builtin-gbdt-predict`: applies a gradient-boosted tree model.
///
/// Inputs `model_file` (from `builtin-gbdt-train`) and `data_file` (CSV rows of the model's
/// `feature_size` numbers). Output `result_file`: the prediction for each row, one a line with
/// 10 decimals (as Teaclave). Result "Predict result has N lines of data.". Rows are streamed.
enum GBDTPredict: BuiltinFunction {
    static let name = "builtin-gbdt-predict"
    static let signature = BuiltinSignature(arguments: [], inputs: ["model_file", "data_file"], outputs: ["result_file"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let model = try ModelFile.read(GradientBoostedTrees.self, from: try runtime.openInput("model_file"))
        let count = try writePredictions(
            from: try runtime.openInput("data_file"), featureSize: model.featureSize,
            to: try runtime.createOutput("result_file"), format: "%.10f", model.predict)
        return "Predict result has \(count) lines of data."
    }
}
