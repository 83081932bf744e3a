import Foundation

/// A logistic regression model: P(label 1 | x) = σ(bias + weights · x).
///
/// Its model file (see `ModelFile`) is
/// `{"format": "cloister-logistic-regression", "model": {"bias": b, "feature_size": n, "weights": [w1, …, wn]}}`.
struct LogisticRegressionModel: StoredModel {
    static let format = "cloister-logistic-regression"

    var featureSize: Int
    var bias: Double
    var weights: [Double]

    var problem: String? {
        guard featureSize >= 1 else { return "feature_size must be at least 1" }
        guard weights.count == featureSize else { return "\(weights.count) weights for \(featureSize) features" }
        guard bias.isFinite, weights.allSatisfy(\.isFinite) else { return "a parameter is not a finite number" }
        return nil
    }

    /// Trains by full-batch gradient descent on the mean cross-entropy, from zero parameters (as
    /// rusty-machine's `LogisticRegressor` with `GradientDesc`, which Teaclave uses):
    /// each iteration takes a step of `alpha` times the mean gradient over all samples.
    /// The labels are 0 or 1.
    init(training data: TrainingSet, alpha: Double, iterations: Int) {
        featureSize = data.featureSize
        bias = 0
        weights = [Double](repeating: 0, count: featureSize)
        let count = Double(data.count)
        var gradient = [Double](repeating: 0, count: featureSize)
        for _ in 0..<iterations {
            var biasGradient = 0.0
            for i in gradient.indices { gradient[i] = 0 }
            for (row, label) in data.labels.enumerated() {
                let x = data.features(row)
                let error = probability(of: x) - label
                biasGradient += error
                for (j, value) in x.enumerated() { gradient[j] += error * value }
            }
            bias -= alpha * biasGradient / count
            for j in weights.indices { weights[j] -= alpha * gradient[j] / count }
        }
    }

    /// P(label 1) for the features `x` (`featureSize` numbers).
    func probability<Features: Collection<Double>>(of x: Features) -> Double {
        var z = bias
        for (weight, value) in zip(weights, x) { z += weight * value }
        return 1 / (1 + exp(-z))
    }
}
