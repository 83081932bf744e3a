/// A gradient-boosted regression-tree model: prediction = loss.output(initial_value + shrinkage × Σ tree(x)).
///
/// Its model file (see `ModelFile`) is `{"format": "cloister-gbdt", "model": {"feature_size": n,
/// "initial_value": f0, "loss": "SquaredError", "shrinkage": s, "trees": [{"nodes": […]}, …]}}`,
/// each node either `{"feature": i, "threshold": t, "left": l, "right": r}` or `{"value": v}`.
struct GradientBoostedTrees: StoredModel {
    static let format = "cloister-gbdt"

    /// How to train: the arguments of `builtin-gbdt-train`.
    struct Parameters {
        var loss: BoostingLoss
        var iterations: Int
        var maxDepth: Int
        var shrinkage: Double
        var minLeafSize: Int
        var featureSampleRatio: Double
        var dataSampleRatio: Double
    }

    var loss: BoostingLoss
    var featureSize: Int
    var initialValue: Double
    var shrinkage: Double
    var trees: [RegressionTree]

    var problem: String? {
        guard featureSize >= 1 else { return "feature_size must be at least 1" }
        guard initialValue.isFinite, shrinkage.isFinite else { return "a parameter is not a finite number" }
        return trees.lazy.compactMap { $0.problem(featureSize: self.featureSize) }.first
    }

    /// Trains `parameters.iterations` trees, each on the pseudo-residuals of the model so far.
    ///
    /// Each tree sees a sample of `dataSampleRatio` of the rows and may split on a sample of
    /// `featureSampleRatio` of the features (at least one of each), drawn without replacement from
    /// a fixed seed: the same data and parameters give the same model.
    /// The labels are as `BoostingLoss.trainingLabel` gives them.
    init(training data: TrainingSet, parameters: Parameters) {
        loss = parameters.loss
        featureSize = data.featureSize
        let labels = data.labels
        shrinkage = parameters.shrinkage
        initialValue = loss.initialValue(labels: labels)
        trees = []
        var predictions = [Double](repeating: initialValue, count: labels.count)
        var generator = SplitMix64(seed: 0x0C10_157E_6BD7)
        let rowCount = max(1, Int((parameters.dataSampleRatio * Double(labels.count)).rounded(.up)))
        let featureCount = max(1, Int((parameters.featureSampleRatio * Double(featureSize)).rounded(.up)))
        for _ in 0..<parameters.iterations {
            let residuals = zip(labels, predictions).map { loss.pseudoResidual(label: $0, prediction: $1) }
            let builder = RegressionTreeBuilder(
                data: data, targets: residuals,
                features: generator.sample(featureCount, of: featureSize),
                maxDepth: parameters.maxDepth, minLeafSize: parameters.minLeafSize,
                leafValue: { [loss] rows in
                    loss.leafValue(rows: rows, labels: labels, predictions: predictions, residuals: residuals)
                })
            let tree = builder.build(rows: generator.sample(rowCount, of: labels.count))
            trees.append(tree)
            for row in predictions.indices {
                predictions[row] += shrinkage * tree.evaluate(Array(data.features(row)))
            }
        }
    }

    /// The prediction for the features `x` (`featureSize` numbers).
    func predict(_ x: [Double]) -> Double {
        loss.output(initialValue + shrinkage * trees.reduce(0) { $0 + $1.evaluate(x) })
    }
}
