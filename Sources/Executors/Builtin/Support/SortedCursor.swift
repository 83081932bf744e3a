/// The order a sorted input declares, comparing keys byte by byte (UTF-8), as Teaclave does.
enum SortOrder: String, CaseIterable {
    case ascending
    case descending

    /// Whether `a` comes strictly before `b` in this order.
    func precedes(_ a: String, _ b: String) -> Bool {
        switch self {
        case .ascending: return a.utf8.lexicographicallyPrecedes(b.utf8)
        case .descending: return b.utf8.lexicographicallyPrecedes(a.utf8)
        }
    }
}

/// Walks a sorted input one record at a time, for merge walks over two inputs in constant memory.
/// Each record's key must not come before the previous one's in `order` (equal keys may repeat).
struct SortedCursor<Record> {
    let input: FunctionInput
    let order: SortOrder
    /// Makes a record and its key from a line.
    let parse: (String) throws(ExecutorError) -> (record: Record, key: String)
    /// The current record and its key; nil once the input is exhausted.
    private(set) var current: (record: Record, key: String)?

    /// A cursor on the first record of `input`.
    init(_ input: FunctionInput, order: SortOrder, parse: @escaping (String) throws(ExecutorError) -> (record: Record, key: String)) throws(ExecutorError) {
        self.input = input
        self.order = order
        self.parse = parse
        try advance()
    }

    /// Moves to the next record, checking the order.
    mutating func advance() throws(ExecutorError) {
        let previous = current?.key
        guard let line = try input.nextLine() else {
            current = nil
            return
        }
        let next = try parse(line)
        if let previous, order.precedes(next.key, previous) {
            throw input.lineError("not sorted in \(order.rawValue) order")
        }
        current = next
    }
}
