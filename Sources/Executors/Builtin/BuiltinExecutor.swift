/// The builtin functions: native Swift, run in the worker's process (`builtin`/`builtin`).
///
/// `execute` dispatches on the function name; the payload is ignored. The names, arguments and
/// file names are Apache Teaclave's, so that its users feel at home (see each function's type for
/// its contract, and `BuiltinExecutor.functionNames` for the list).
public struct BuiltinExecutor: FunctionExecutor {
    /// The builtin functions, in the order `functionNames` lists them.
    static var functions: [any BuiltinFunction.Type] {
        [
            Echo.self,
            PasswordCheck.self,
            OrderedSetIntersect.self,
            OrderedSetJoin.self,
            PrivateJoinAndCompute.self,
            LogisticRegressionTrain.self,
            LogisticRegressionPredict.self,
            GBDTTrain.self,
            GBDTPredict.self,
            PrincipalComponentsAnalysis.self,
            RSASign.self,
            OnlineDecrypt.self,
        ]
    }

    /// The names of the builtin functions, e.g. "builtin-echo".
    public static var functionNames: [String] { functions.map { $0.name } }

    /// What the builtin `name` reads (nil: no such builtin).
    public static func signature(of name: String) -> BuiltinSignature? {
        functions.first { $0.name == name }?.signature
    }

    /// The builtin executor.
    public init() {}

    /// A builtin's name must be one of the builtins; it takes no payload.
    public func validate(name: String, payload: [UInt8], limits: FunctionLimits) throws(ExecutorError) {
        guard Self.functionNames.contains(name) else { throw .unknownFunction(name: name, available: Self.functionNames) }
        guard payload.isEmpty else { throw .badPayload("a builtin function takes no payload") }
    }

    /// Runs the builtin `name`; an unknown name is `ExecutorError.unknownFunction`, which lists the builtins.
    public func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String {
        guard let function = Self.functions.first(where: { $0.name == name }) else {
            throw ExecutorError.unknownFunction(name: name, available: Self.functionNames)
        }
        return try function.run(arguments: arguments, runtime: runtime)
    }
}
