import Foundation

/// The streaming half of the prediction builtins: each row of `data` (`featureSize` numbers) goes
/// through `predict`, and the prediction is written to the output `result` in `format` (a
/// `String(format:)` pattern for one Double), one a line; `result` is closed.
///
/// - Returns: the number of rows.
func writePredictions(
    from data: FunctionInput, featureSize: Int, to result: FunctionOutput, format: String, _ predict: ([Double]) -> Double
) throws(ExecutorError) -> Int {
    var count = 0
    while let row = try data.nextNumericRow(count: featureSize) {
        try result.write(String(format: format, predict(row)) + "\n")
        count += 1
    }
    try result.close()
    return count
}
