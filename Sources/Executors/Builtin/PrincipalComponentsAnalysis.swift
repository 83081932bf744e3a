/// `builtin-principal-components-analysis`: projects rows onto their top principal components.
///
/// Arguments `n` (how many components, 1…`feature_size`), `center` (true: subtract the mean,
/// the usual PCA; false: use the rows as they are) and `feature_size` (≥ 1). Input `input_data`:
/// CSV rows of `feature_size` numbers, optionally followed by a label column that is ignored (the
/// layout of Teaclave's fixtures). Output `output_data`: each row's `n` coordinates along the
/// components, largest variance first (each component has its largest entry positive). Result
/// "transform R rows * C cols lines of data." (Teaclave's wording).
///
/// Two streaming passes, in memory of order `feature_size`²: the first accumulates the mean and
/// the scatter matrix, whose eigenvectors (Jacobi) are the components; the second projects each row.
enum PrincipalComponentsAnalysis: BuiltinFunction {
    static let name = "builtin-principal-components-analysis"
    static let signature = BuiltinSignature(arguments: ["feature_size", "n", "center"], inputs: ["input_data"], outputs: ["output_data"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let featureSize = try arguments.integer("feature_size", in: 1...Int.max)
        let components = try arguments.integer("n", in: 1...featureSize)
        let center = try arguments.bool("center")

        // Welford's update: the running mean and the sum of outer products of the deviations
        // from it, stable even far from the origin.
        let first = try runtime.openInput("input_data")
        var rows = 0
        var mean = [Double](repeating: 0, count: featureSize)
        var scatter = [[Double]](repeating: mean, count: featureSize)
        while let x = try features(from: first, featureSize: featureSize) {
            rows += 1
            let before = zip(x, mean).map { $0 - $1 }
            for i in 0..<featureSize { mean[i] += before[i] / Double(rows) }
            for i in 0..<featureSize {
                for j in 0...i { scatter[i][j] += before[i] * (x[j] - mean[j]) }
            }
        }
        guard rows > 0 else { throw ExecutorError.badInput(name: first.name, line: nil, reason: "no data rows") }
        for i in 0..<featureSize {
            for j in 0...i {
                // Without centering, the components are those of the rows' own outer products.
                if !center { scatter[i][j] += Double(rows) * mean[i] * mean[j] }
                scatter[j][i] = scatter[i][j]
            }
        }
        let basis = SymmetricEigen(scatter).vectors.prefix(components)

        let second = try runtime.openInput("input_data")
        let output = try runtime.createOutput("output_data")
        while let x = try features(from: second, featureSize: featureSize) {
            let shifted = center ? zip(x, mean).map { $0 - $1 } : x
            let coordinates = basis.map { component in zip(component, shifted).reduce(0) { $0 + $1.0 * $1.1 } }
            try output.write(coordinates.map { "\($0)" }.joined(separator: ",") + "\n")
        }
        try output.close()
        return "transform \(rows) rows * \(components) cols lines of data."
    }

    /// The next row's features: `featureSize` numbers, a trailing label dropped.
    private static func features(from input: FunctionInput, featureSize: Int) throws(ExecutorError) -> [Double]? {
        guard var row = try input.nextNumericRow() else { return nil }
        guard row.count == featureSize || row.count == featureSize + 1 else {
            throw input.lineError("expected \(featureSize) comma-separated numbers (and an optional label), got \(row.count)")
        }
        if row.count > featureSize { row.removeLast() }
        return row
    }
}
