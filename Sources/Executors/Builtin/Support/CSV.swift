/// CSV lines as RFC 4180 has them: fields separated by commas, a field in double quotes may hold
/// commas and doubled quotes (a quoted field cannot span lines here).
enum CSV {
    /// The fields of one line; nil if a quoted field is not closed.
    static func fields(of line: String) -> [String]? {
        var fields: [String] = []
        var field = ""
        var quoted = false
        var iterator = line.makeIterator()
        while let character = iterator.next() {
            switch (quoted, character) {
            case (false, ","):
                fields.append(field)
                field = ""
            case (false, "\"") where field.isEmpty:
                quoted = true
            case (true, "\""):
                // A doubled quote is a quote; a single one closes the field.
                var lookahead = iterator
                if lookahead.next() == "\"" {
                    field.append("\"")
                    iterator = lookahead
                } else {
                    quoted = false
                }
            default:
                field.append(character)
            }
        }
        guard !quoted else { return nil }
        fields.append(field)
        return fields
    }

    /// One line (without its newline) of `fields`, quoting those that need it.
    static func line(_ fields: [String]) -> String {
        fields.map { field in
            guard field.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return field }
            return "\"" + field.replacing("\"", with: "\"\"") + "\""
        }.joined(separator: ",")
    }
}
