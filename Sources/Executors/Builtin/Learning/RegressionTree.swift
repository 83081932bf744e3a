/// A binary regression tree, stored as a flat list of nodes; node 0 is the root.
///
/// A split node sends `x` to `left` when `x[feature] <= threshold`, else to `right`; a leaf node
/// holds a `value`. Children always come after their parent in the list.
struct RegressionTree: Codable, Equatable {
    struct Node: Codable, Equatable {
        var feature: Int?
        var threshold: Double?
        var left: Int?
        var right: Int?
        var value: Double?
    }

    var nodes: [Node]

    /// The leaf value for `x`.
    func evaluate(_ x: [Double]) -> Double {
        var node = nodes[0]
        while let feature = node.feature, let threshold = node.threshold, let left = node.left, let right = node.right {
            node = nodes[x[feature] <= threshold ? left : right]
        }
        return node.value!
    }

    /// What is inconsistent for `featureSize` features, or nil if `evaluate` is safe.
    func problem(featureSize: Int) -> String? {
        guard !nodes.isEmpty else { return "a tree has no nodes" }
        for (index, node) in nodes.enumerated() {
            if let feature = node.feature, let threshold = node.threshold, let left = node.left, let right = node.right {
                guard (0..<featureSize).contains(feature), threshold.isFinite,
                    (index + 1..<nodes.count).contains(left), (index + 1..<nodes.count).contains(right)
                else { return "node \(index) is not a valid split" }
            } else {
                guard let value = node.value, value.isFinite else { return "node \(index) is neither a split nor a leaf" }
            }
        }
        return nil
    }
}

/// Grows one `RegressionTree` on the targets of some samples by least squares: each split is the
/// one (over `features`, at midpoints between distinct values) that most reduces the squared error
/// of the targets, keeping at least `minLeafSize` samples on each side.
struct RegressionTreeBuilder {
    /// The samples (their labels are not used).
    let data: TrainingSet
    /// What the tree is fitted to, one per sample.
    let targets: [Double]
    /// The features a split may use.
    let features: [Int]
    let maxDepth: Int
    let minLeafSize: Int
    /// The value of a leaf holding these samples.
    let leafValue: ([Int]) -> Double

    /// Grows a tree on the samples `rows`.
    func build(rows: [Int]) -> RegressionTree {
        var nodes: [RegressionTree.Node] = []
        grow(rows, depth: 0, into: &nodes)
        return RegressionTree(nodes: nodes)
    }

    private func grow(_ rows: [Int], depth: Int, into nodes: inout [RegressionTree.Node]) {
        let index = nodes.count
        nodes.append(RegressionTree.Node(value: leafValue(rows)))
        guard depth < maxDepth, let split = bestSplit(rows) else { return }
        let left = rows.filter { data.value(split.feature, of: $0) <= split.threshold }
        let right = rows.filter { data.value(split.feature, of: $0) > split.threshold }
        nodes[index] = RegressionTree.Node(feature: split.feature, threshold: split.threshold, left: nodes.count)
        grow(left, depth: depth + 1, into: &nodes)
        nodes[index].right = nodes.count
        grow(right, depth: depth + 1, into: &nodes)
    }

    /// The split of `rows` with the largest `sum²/count` on both sides, if it beats no split.
    private func bestSplit(_ rows: [Int]) -> (feature: Int, threshold: Double)? {
        guard rows.count >= 2 * minLeafSize else { return nil }
        let total = rows.reduce(0.0) { $0 + targets[$1] }
        let unsplit = total * total / Double(rows.count)
        var best: (score: Double, feature: Int, threshold: Double)?
        for feature in features {
            let sorted = rows.map { (value: data.value(feature, of: $0), target: targets[$0]) }
                .sorted { $0.value < $1.value }
            var leftSum = 0.0
            for count in 1..<sorted.count {
                leftSum += sorted[count - 1].target
                guard count >= minLeafSize, sorted.count - count >= minLeafSize,
                    sorted[count - 1].value < sorted[count].value
                else { continue }
                let rightSum = total - leftSum
                let score = leftSum * leftSum / Double(count) + rightSum * rightSum / Double(sorted.count - count)
                if score > (best?.score ?? unsplit * (1 + 1e-12) + 1e-12) {
                    let (below, above) = (sorted[count - 1].value, sorted[count].value)
                    // The midpoint, unless rounding puts it on the value above.
                    let middle = below + (above - below) / 2
                    best = (score, feature, middle < above ? middle : below)
                }
            }
        }
        return best.map { ($0.feature, $0.threshold) }
    }
}
