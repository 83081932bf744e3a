import Foundation

/// The loss a gradient-boosted model minimises, by the names of the `gbdt` crate that Teaclave uses.
enum BoostingLoss: String, Codable, CaseIterable {
    /// Least squares regression: each tree fits the residuals `y − F`, leaves hold their mean.
    case squaredError = "SquaredError"
    /// Two-class logistic loss (Friedman's L2-TreeBoost), labels −1 and 1 (0 is read as −1); the
    /// prediction is P(label 1) = 1 / (1 + e^(−2F)).
    case logLikelihood = "LogLikelyhood"
    /// Least absolute deviation: trees fit the signs of the residuals, leaves hold the median residual.
    case leastAbsoluteDeviation = "LAD"

    /// The label as trained on, or nil if this loss does not take it.
    func trainingLabel(_ label: Double) -> Double? {
        guard self == .logLikelihood else { return label }
        switch label {
        case 1: return 1
        case 0, -1: return -1
        default: return nil
        }
    }

    /// What labels this loss takes, for an error message.
    var labelRequirement: String { "must be 1, 0 or -1 with \(rawValue)" }

    /// The constant model the trees start from.
    func initialValue(labels: [Double]) -> Double {
        switch self {
        case .squaredError:
            return labels.reduce(0, +) / Double(labels.count)
        case .logLikelihood:
            let mean = min(max(labels.reduce(0, +) / Double(labels.count), -1 + 1e-9), 1 - 1e-9)
            return 0.5 * log((1 + mean) / (1 - mean))
        case .leastAbsoluteDeviation:
            return Self.median(labels)
        }
    }

    /// The negative gradient of the loss at the prediction `f` for the label `y`: what the next tree fits.
    func pseudoResidual(label y: Double, prediction f: Double) -> Double {
        switch self {
        case .squaredError: return y - f
        case .logLikelihood: return 2 * y / (1 + exp(2 * y * f))
        case .leastAbsoluteDeviation: return y - f > 0 ? 1 : (y - f < 0 ? -1 : 0)
        }
    }

    /// The value of a leaf holding `rows`: the step that minimises the loss there (one Newton step
    /// for the logistic loss).
    func leafValue(rows: [Int], labels: [Double], predictions: [Double], residuals: [Double]) -> Double {
        switch self {
        case .squaredError:
            return rows.reduce(0) { $0 + residuals[$1] } / Double(rows.count)
        case .logLikelihood:
            let numerator = rows.reduce(0) { $0 + residuals[$1] }
            let denominator = rows.reduce(0) { $0 + abs(residuals[$1]) * (2 - abs(residuals[$1])) }
            return denominator < 1e-12 ? 0 : numerator / denominator
        case .leastAbsoluteDeviation:
            return Self.median(rows.map { labels[$0] - predictions[$0] })
        }
    }

    /// The prediction for the model's raw sum `f`.
    func output(_ f: Double) -> Double {
        self == .logLikelihood ? 1 / (1 + exp(-2 * f)) : f
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        let middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
