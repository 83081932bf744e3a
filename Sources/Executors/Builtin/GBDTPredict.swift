import Foundation

/// `builtin-gbdt-predict`: applies a gradient-boosted tree model.
///
/// Inputs `model_file` (from `builtin-gbdt-train`) and `data_file` (CSV rows of the model's
/// `feature_size` numbers). Output `result_file`: the prediction for each row, one a line with
/// 10 decimals (as Teaclave). Result "Predict result has N lines of data.". Rows are streamed.
enum GBDTPredict: BuiltinFunction {
    static let name = "builtin-gbdt-predict"

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let model = try ModelFile.read(GradientBoostedTrees.self, from: try runtime.openInput("model_file"))
        let data = try runtime.openInput("data_file")
        let result = try runtime.createOutput("result_file")
        var count = 0
        while let row = try data.nextNumericRow(count: model.featureSize) {
            try result.write(String(format: "%.10f\n", model.predict(row)))
            count += 1
        }
        try result.close()
        return "Predict result has \(count) lines of data."
    }
}
