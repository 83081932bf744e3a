import Testing
@testable import Executors

/// Each builtin's declared signature (what the platform checks when a function is registered)
/// is what the builtin reads first: given nothing, it asks for its first declared argument, or,
/// without arguments, for its first declared input.
@Suite struct BuiltinSignatureTests {
    @Test(arguments: BuiltinExecutor.functionNames)
    func theSignatureIsWhatTheBuiltinReadsFirst(name: String) throws {
        let signature = try #require(BuiltinExecutor.signature(of: name))
        let runtime = FunctionRuntime()
        var thrown: ExecutorError?
        do {
            _ = try BuiltinExecutor().execute(name: name, arguments: [:], payload: [], runtime: runtime)
        } catch let error as ExecutorError {
            thrown = error
        }
        if let first = signature.arguments.first {
            #expect(thrown == .missingArgument(first), "\(name): \(String(describing: thrown))")
        } else {
            let input = try #require(signature.inputs?.first, "\(name) declares neither an argument nor an input")
            #expect(thrown == .unknownInput(name: input, declared: []), "\(name): \(String(describing: thrown))")
        }
    }

    @Test func anUnknownNameHasNoSignature() {
        #expect(BuiltinExecutor.signature(of: "builtin-nothing") == nil)
        #expect(BuiltinExecutor.signature(of: "builtin-echo") == BuiltinSignature(arguments: ["message"], inputs: [], outputs: []))
    }
}
