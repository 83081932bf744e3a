/// `builtin-echo`: returns its argument `message`.
enum Echo: BuiltinFunction {
    static let name = "builtin-echo"
    static let signature = BuiltinSignature(arguments: ["message"], inputs: [], outputs: [])

    static func run(arguments: FunctionArguments, runtime: FunctionRuntime) throws -> String {
        try arguments.string("message")
    }
}
