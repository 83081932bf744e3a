/// `builtin-ordered-set-intersect`: which items two parties have in common.
///
/// Argument `order`: "ascending" or "descending". Inputs `input_data1` and `input_data2`: one
/// item a line, sorted in that order (bytewise). Outputs `output_result1` and `output_result2`:
/// for each line of the matching input, "1" if its item is in the other input and "0" if not, one
/// a line. Result "N common items", N the number of
/// lines of `input_data1` whose item is in `input_data2`.
///
/// A merge walk over both inputs, in constant memory. An input out of order fails with its line.
enum OrderedSetIntersect: BuiltinFunction {
    static let name = "builtin-ordered-set-intersect"
    static let signature = BuiltinSignature(arguments: ["order"], inputs: ["input_data1", "input_data2"], outputs: ["output_result1", "output_result2"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let order = try arguments.choice("order", from: SortOrder.allCases.map { ($0.rawValue, $0) })
        let item = { (line: String) throws(ExecutorError) in (record: (), key: line) }
        var first = try SortedCursor(try runtime.openInput("input_data1"), order: order, parse: item)
        var second = try SortedCursor(try runtime.openInput("input_data2"), order: order, parse: item)
        let firstResult = try runtime.createOutput("output_result1")
        let secondResult = try runtime.createOutput("output_result2")

        var common = 0
        while let a = first.current?.key, let b = second.current?.key {
            if a == b {
                // Every line holding the common item is marked, on both sides.
                while first.current?.key == a {
                    try firstResult.write("1\n")
                    common += 1
                    try first.advance()
                }
                while second.current?.key == a {
                    try secondResult.write("1\n")
                    try second.advance()
                }
            } else if order.precedes(a, b) {
                try firstResult.write("0\n")
                try first.advance()
            } else {
                try secondResult.write("0\n")
                try second.advance()
            }
        }
        // The rest of the longer input has nothing in common; it is still read to check its order.
        while first.current != nil {
            try firstResult.write("0\n")
            try first.advance()
        }
        while second.current != nil {
            try secondResult.write("0\n")
            try second.advance()
        }
        try firstResult.close()
        try secondResult.close()
        return "\(common) common items"
    }
}
