/// `builtin-ordered-set-join`: joins two CSV files sorted on their key columns.
///
/// Arguments `left_column` and `right_column` (0-based key columns of `input_data1` and
/// `input_data2`), `ascending` (true or false: the order both files are sorted in, bytewise), and
/// `drop` (true: leave the key out of the joined rows; false: keep it once, where it is in the
/// first file). Output `output_result`: for each key present in both files, the first file's row
/// followed by the second file's row without its key column. Result "N records".
///
/// Like Teaclave's, a merge walk in constant memory that pairs rows one to one: keys are expected
/// to be unique in each file (a key repeated k times in one file and m times in the other gives
/// min(k, m) rows). A file out of order fails with its line.
enum OrderedSetJoin: BuiltinFunction {
    static let name = "builtin-ordered-set-join"
    static let signature = BuiltinSignature(arguments: ["left_column", "right_column", "ascending", "drop"], inputs: ["input_data1", "input_data2"], outputs: ["output_result"])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let leftColumn = try arguments.integer("left_column", in: 0...Int.max)
        let rightColumn = try arguments.integer("right_column", in: 0...Int.max)
        let order: SortOrder = try arguments.bool("ascending") ? .ascending : .descending
        let drop = try arguments.bool("drop")

        var left = try cursor(try runtime.openInput("input_data1"), keyColumn: leftColumn, order: order)
        var right = try cursor(try runtime.openInput("input_data2"), keyColumn: rightColumn, order: order)
        let output = try runtime.createOutput("output_result")

        var count = 0
        while let a = left.current, let b = right.current {
            if a.key == b.key {
                var row = a.record
                if drop { row.remove(at: leftColumn) }
                var rest = b.record
                rest.remove(at: rightColumn)
                try output.write(CSV.line(row + rest) + "\n")
                count += 1
                try left.advance()
                try right.advance()
            } else if order.precedes(a.key, b.key) {
                try left.advance()
            } else {
                try right.advance()
            }
        }
        // Unmatched rows are still read, to check their order.
        while left.current != nil { try left.advance() }
        while right.current != nil { try right.advance() }
        try output.close()
        return "\(count) records"
    }

    private static func cursor(_ input: FunctionInput, keyColumn: Int, order: SortOrder) throws(ExecutorError) -> SortedCursor<[String]> {
        try SortedCursor(input, order: order) { line throws(ExecutorError) in
            guard let fields = CSV.fields(of: line) else { throw input.lineError("a quoted field is not closed") }
            guard keyColumn < fields.count else {
                throw input.lineError("has no column \(keyColumn) (columns count from 0; this line has \(fields.count))")
            }
            return (fields, fields[keyColumn])
        }
    }
}
