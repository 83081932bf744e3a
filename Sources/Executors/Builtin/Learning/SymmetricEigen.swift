/// The eigen decomposition of a symmetric matrix by the cyclic Jacobi method: plane rotations
/// zero the off-diagonal entries one by one until they vanish.
struct SymmetricEigen {
    /// The eigenvalues, largest first.
    let values: [Double]
    /// The unit eigenvectors, in the order of `values`; each has its largest entry (in magnitude)
    /// positive, so that the decomposition is reproducible.
    let vectors: [[Double]]

    /// Decomposes the symmetric `matrix` (rows of equal length).
    init(_ matrix: [[Double]]) {
        let n = matrix.count
        var a = matrix
        var v = (0..<n).map { i in (0..<n).map { j in i == j ? 1.0 : 0.0 } }
        let scale = a.joined().reduce(0) { $0 + $1 * $1 }
        for _ in 0..<100 {
            var offDiagonal = 0.0
            for p in 0..<n { for q in (p + 1)..<n { offDiagonal += a[p][q] * a[p][q] } }
            if offDiagonal <= 1e-30 * scale { break }
            for p in 0..<n {
                for q in (p + 1)..<n where a[p][q] != 0 {
                    // The rotation angle that zeroes a[p][q]: t = tan θ, the smaller root of
                    // t² + 2ϑt − 1 = 0 with ϑ = (a[q][q] − a[p][p]) / 2a[p][q].
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot()
                    let s = t * c
                    for k in 0..<n {
                        let (kp, kq) = (a[k][p], a[k][q])
                        a[k][p] = c * kp - s * kq
                        a[k][q] = s * kp + c * kq
                    }
                    for k in 0..<n {
                        let (pk, qk) = (a[p][k], a[q][k])
                        a[p][k] = c * pk - s * qk
                        a[q][k] = s * pk + c * qk
                    }
                    for k in 0..<n {
                        let (kp, kq) = (v[k][p], v[k][q])
                        v[k][p] = c * kp - s * kq
                        v[k][q] = s * kp + c * kq
                    }
                }
            }
        }
        let order = (0..<n).sorted { a[$0][$0] > a[$1][$1] }
        values = order.map { a[$0][$0] }
        vectors = order.map { column in
            let vector = (0..<n).map { v[$0][column] }
            let largest = vector.max { abs($0) < abs($1) } ?? 0
            return largest < 0 ? vector.map { -$0 } : vector
        }
    }
}
