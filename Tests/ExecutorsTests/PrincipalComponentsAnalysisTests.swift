import Foundation
import Testing
@testable import Executors

@Suite struct PrincipalComponentsAnalysisTests {
    /// Points along the direction (1, 2) with a little noise across it, around (3, -1).
    static func correlated(_ count: Int) -> [(t: Double, x: Double, y: Double)] {
        var generator = SplitMix64(seed: 7)
        return (0..<count).map { _ in
            let t = Double(generator.next() % 2001) / 1000 - 1
            let noise = Double(generator.next() % 2001) / 10_000 - 0.1
            return (t, 3 + t - 2 * noise, -1 + 2 * t + noise)
        }
    }

    static func rows(_ text: String) -> [[Double]] {
        text.split(separator: "\n").map { $0.split(separator: ",").map { Double($0)! } }
    }

    @Test func projectsOntoThePrincipalDirection() throws {
        let workspace = try Workspace()
        let points = Self.correlated(400)
        // Teaclave's fixture layout: the features, then a label column that PCA ignores.
        let data = points.map { "\($0.x),\($0.y),\($0.t > 0 ? 1 : 0)" }.joined(separator: "\n")
        let one = try workspace.run(
            "builtin-principal-components-analysis", ["n": 1, "center": true, "feature_size": 2],
            inputs: ["input_data": data], outputs: ["output_data"])
        #expect(one.result == "transform 400 rows * 1 cols lines of data.")
        let projected = Self.rows(try #require(one.outputs["output_data"])).map { $0[0] }
        #expect(projected.count == 400)
        // The component is (1, 2)/√5 with its largest entry positive, so the coordinate is √5·t
        // plus the part of the noise along it (none: the noise is across the line).
        let meanT = points.reduce(0.0) { $0 + $1.t } / 400
        for (coordinate, point) in zip(projected, points) {
            let expected: Double = 5.0.squareRoot() * (point.t - meanT)
            #expect(abs(coordinate - expected) < 0.01)
        }
        #expect(abs(projected.reduce(0, +)) < 1e-9)

        let two = try workspace.run(
            "builtin-principal-components-analysis", ["n": "2", "center": "true", "feature_size": "2"],
            inputs: ["input_data": data], outputs: ["output_data"])
        #expect(two.result == "transform 400 rows * 2 cols lines of data.")
        let both = Self.rows(try #require(two.outputs["output_data"]))
        // A rotation: the total variance is kept, and the coordinates are uncorrelated.
        let meanX = points.reduce(0.0) { $0 + $1.x } / 400
        let meanY = points.reduce(0.0) { $0 + $1.y } / 400
        let variance = points.reduce(0.0) { sum, point in sum + (point.x - meanX) * (point.x - meanX) + (point.y - meanY) * (point.y - meanY) }
        let kept = both.reduce(0.0) { sum, row in sum + row[0] * row[0] + row[1] * row[1] }
        let covariance = both.reduce(0.0) { sum, row in sum + row[0] * row[1] }
        #expect(abs(kept - variance) < 1e-6 * variance)
        #expect(abs(covariance) < 1e-6 * variance)
        #expect(zip(both, projected).allSatisfy { abs($0[0] - $1) < 1e-9 })
    }

    @Test func staysAccurateFarFromTheOrigin() throws {
        let workspace = try Workspace()
        let points = Self.correlated(300)
        func project(offset: Double) throws -> [Double] {
            let data = points.map { "\($0.x + offset),\($0.y - offset)" }.joined(separator: "\n")
            let run = try workspace.run(
                "builtin-principal-components-analysis", ["n": 1, "center": true, "feature_size": 2],
                inputs: ["input_data": data], outputs: ["output_data"])
            return Self.rows(try #require(run.outputs["output_data"])).map { $0[0] }
        }
        let near = try project(offset: 0)
        let far = try project(offset: 1e7)
        #expect(zip(near, far).allSatisfy { abs($0 - $1) < 1e-6 })
    }

    @Test func withoutCenteringTheFirstComponentPointsToTheData() throws {
        let workspace = try Workspace()
        let data = "10,0.1\n10,-0.1\n10.2,0\n9.8,0\n"
        let run = try workspace.run(
            "builtin-principal-components-analysis", ["n": 1, "center": false, "feature_size": 2],
            inputs: ["input_data": data], outputs: ["output_data"])
        let projected = Self.rows(try #require(run.outputs["output_data"])).map { $0[0] }
        #expect(zip(projected, [10, 10, 10.2, 9.8]).allSatisfy { abs($0 - $1) < 1e-3 })
    }

    @Test func badArgumentsAndData() throws {
        let workspace = try Workspace()
        func run(_ arguments: FunctionArguments, _ data: String = "1,2\n3,4\n") -> String? {
            failure { try workspace.run("builtin-principal-components-analysis", arguments, inputs: ["input_data": data], outputs: ["output_data"]) }
        }
        #expect(run(["n": 1, "feature_size": 2]) == #"missing argument "center""#)
        #expect(run(["n": 3, "center": true, "feature_size": 2]) == #"argument "n" must be between 1 and 2, got 3"#)
        #expect(run(["n": 0, "center": true, "feature_size": 2]) == #"argument "n" must be between 1 and 2, got 0"#)
        #expect(run(["n": 1, "center": "yes", "feature_size": 2]) == #"argument "center" must be true or false, got "yes""#)
        #expect(run(["n": 1, "center": true, "feature_size": 2], "1,2\n1,2,3,4\n")
            == #"input "input_data" line 2: expected 2 comma-separated numbers (and an optional label), got 4"#)
        #expect(run(["n": 1, "center": true, "feature_size": 2], "") == #"input "input_data": no data rows"#)
    }

    @Test func jacobiFindsTheEigenpairs() {
        let matrix: [[Double]] = [[2, 1, 0], [1, 2, 0], [0, 0, 5]]
        let eigen = SymmetricEigen(matrix)
        #expect(zip(eigen.values, [5.0, 3, 1]).allSatisfy { abs($0 - $1) < 1e-12 })
        for (value, vector) in zip(eigen.values, eigen.vectors) {
            let product = matrix.map { row in zip(row, vector).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(zip(product, vector).allSatisfy { abs($0 - value * $1) < 1e-12 })
            #expect(abs(vector.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
        }
        #expect(eigen.vectors[0] == [0, 0, 1])

        // A larger random symmetric matrix: A·V = V·Λ.
        var generator = SplitMix64(seed: 3)
        var random = [[Double]](repeating: [Double](repeating: 0, count: 8), count: 8)
        for i in 0..<8 { for j in 0...i { random[i][j] = Double(generator.next() % 1000) / 100 - 5; random[j][i] = random[i][j] } }
        let decomposed = SymmetricEigen(random)
        #expect(decomposed.values == decomposed.values.sorted(by: >))
        for (value, vector) in zip(decomposed.values, decomposed.vectors) {
            let product = random.map { row in zip(row, vector).reduce(0) { $0 + $1.0 * $1.1 } }
            #expect(zip(product, vector).allSatisfy { abs($0 - value * $1) < 1e-9 })
        }
    }
}
