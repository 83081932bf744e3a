import Foundation

/// `builtin-private-join-and-compute`: the summed amounts of the names every party has.
///
/// Argument `num_user` (at least 2). Inputs `input_data0` … `input_data<N-1>`: lines
/// `name: amount` (amount an integer; blank lines are skipped; a name repeated in one input adds
/// up). Outputs `output_data0` … `output_data<N-1>`, all the same: a line `name, total` for each
/// name present in every input, sorted by name. The result is that same text.
///
/// Memory grows with the number of distinct names (each input is streamed once).
enum PrivateJoinAndCompute: BuiltinFunction {
    static let name = "builtin-private-join-and-compute"
    static let signature = BuiltinSignature(arguments: ["num_user"], inputs: nil, outputs: nil)

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        let users = try arguments.integer("num_user", in: 2...Int.max)
        var totals: [String: (parties: Int, sum: Int)] = [:]
        for user in 0..<users {
            let input = try runtime.openInput("input_data\(user)")
            for (name, amount) in try amounts(of: input) {
                let total = totals[name, default: (0, 0)]
                let sum = try add(total.sum, amount, else: .badInput(name: input.name, line: nil, reason: "a total overflows"))
                totals[name] = (total.parties + 1, sum)
            }
        }
        let report = totals.filter { $0.value.parties == users }.keys.sorted()
            .map { "\($0), \(totals[$0]!.sum)\n" }.joined()
        for user in 0..<users {
            let output = try runtime.createOutput("output_data\(user)")
            try output.write(report)
            try output.close()
        }
        return report
    }

    /// The amounts of one input by name.
    private static func amounts(of input: FunctionInput) throws(ExecutorError) -> [String: Int] {
        var amounts: [String: Int] = [:]
        while let line = try input.nextLine() {
            let pair = line.split(separator: ":", omittingEmptySubsequences: false)
            if pair.count == 1, pair[0].allSatisfy(\.isWhitespace) { continue }
            guard pair.count == 2 else { throw input.lineError("expected \"name: amount\"") }
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { throw input.lineError("the name is empty") }
            guard let amount = Int(pair[1].trimmingCharacters(in: .whitespaces)) else {
                throw input.lineError("the amount is not an integer")
            }
            amounts[name] = try add(amounts[name, default: 0], amount, else: input.lineError("the amounts of this name overflow"))
        }
        return amounts
    }

    private static func add(_ a: Int, _ b: Int, else error: @autoclosure () -> ExecutorError) throws(ExecutorError) -> Int {
        let (sum, overflow) = a.addingReportingOverflow(b)
        if overflow { throw error() }
        return sum
    }
}
