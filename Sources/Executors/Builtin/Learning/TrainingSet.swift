/// The rows a model is trained on: `featureSize` features and a label each, the features stored
/// row after row in one array.
struct TrainingSet {
    let featureSize: Int
    private(set) var labels: [Double] = []
    private var values: [Double] = []

    init(featureSize: Int) {
        self.featureSize = featureSize
    }

    /// The number of rows.
    var count: Int { labels.count }

    /// The features of `row`.
    func features(_ row: Int) -> ArraySlice<Double> {
        values[(row * featureSize)..<((row + 1) * featureSize)]
    }

    /// Feature `feature` of `row`.
    func value(_ feature: Int, of row: Int) -> Double {
        values[row * featureSize + feature]
    }

    mutating func append(features: [Double], label: Double) {
        values += features
        labels.append(label)
    }
}

extension FunctionInput {
    /// Reads every row of `featureSize` features and a label (the last column), as the training
    /// builtins take them; `label` maps a label to the one trained on, or nil when it is not
    /// accepted (the error then says the label `labelRequirement`).
    func readTrainingSet(
        featureSize: Int, label: (Double) -> Double?, labelRequirement: String
    ) throws(ExecutorError) -> TrainingSet {
        var data = TrainingSet(featureSize: featureSize)
        while var row = try nextNumericRow(count: featureSize + 1) {
            guard let trained = label(row.removeLast()) else {
                throw lineError("the label (the last column) \(labelRequirement)")
            }
            data.append(features: row, label: trained)
        }
        guard data.count > 0 else { throw ExecutorError.badInput(name: name, line: nil, reason: "no data rows") }
        return data
    }
}
