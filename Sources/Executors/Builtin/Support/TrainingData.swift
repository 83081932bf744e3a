extension FunctionInput {
    /// Reads every row of `featureSize` features and a label (the last column), as the training
    /// builtins take them; `label` maps a label to the one trained on, or nil when it is not accepted.
    ///
    /// - Returns: the feature rows one after the other, and the labels.
    func readTrainingRows(
        featureSize: Int, label: (Double) -> Double?, labelRequirement: String
    ) throws(ExecutorError) -> (samples: [Double], labels: [Double]) {
        var samples: [Double] = []
        var labels: [Double] = []
        while var row = try nextNumericRow(count: featureSize + 1) {
            guard let trained = label(row.removeLast()) else {
                throw lineError("the label (the last column) \(labelRequirement)")
            }
            samples += row
            labels.append(trained)
        }
        guard !labels.isEmpty else { throw ExecutorError.badInput(name: name, line: nil, reason: "no data rows") }
        return (samples, labels)
    }
}
