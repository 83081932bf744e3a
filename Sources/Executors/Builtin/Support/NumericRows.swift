import Foundation

extension FunctionInput {
    /// The next non-blank line as comma-separated numbers, or nil at the end.
    func nextNumericRow() throws(ExecutorError) -> [Double]? {
        while let line = try nextLine() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            if cells.count == 1, cells[0].allSatisfy(\.isWhitespace) { continue }
            var row: [Double] = []
            row.reserveCapacity(cells.count)
            for (column, cell) in cells.enumerated() {
                guard let value = Double(cell.trimmingCharacters(in: .whitespaces)), value.isFinite else {
                    throw lineError("column \(column + 1) is not a number")
                }
                row.append(value)
            }
            return row
        }
        return nil
    }

    /// The next non-blank line as exactly `count` comma-separated numbers, or nil at the end.
    func nextNumericRow(count: Int) throws(ExecutorError) -> [Double]? {
        guard let row = try nextNumericRow() else { return nil }
        guard row.count == count else { throw lineError("expected \(count) comma-separated numbers, got \(row.count)") }
        return row
    }

    /// An error about the line last read.
    func lineError(_ reason: String) -> ExecutorError {
        .badInput(name: name, line: lineNumber, reason: reason)
    }
}
