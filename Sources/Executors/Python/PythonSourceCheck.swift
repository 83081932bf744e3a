import Foundation

/// The check a Python payload goes through when its function is registered: the same CPython
/// that will run it compiles it (a syntax error names its line) and looks for an `entrypoint`,
/// without running a line of it.
enum PythonSourceCheck {
    /// A payload that checks `source` and returns "" when it can run, else why it cannot.
    static func script(checking source: [UInt8]) -> [UInt8] {
        Array(
            """
            import ast
            import base64

            SOURCE = base64.b64decode("\(Data(source).base64EncodedString())").decode("utf-8")


            def _names(tree):
                for node in ast.walk(tree):
                    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                        yield node.name
                    elif isinstance(node, ast.Name):
                        yield node.id
                    elif isinstance(node, ast.alias):
                        yield node.asname or node.name.split(".")[-1]


            def entrypoint(argv):
                try:
                    tree = compile(SOURCE, "function.py", "exec", ast.PyCF_ONLY_AST)
                    compile(tree, "function.py", "exec")
                except SyntaxError as error:
                    return "a Python syntax error at line %s: %s" % (error.lineno, error.msg)
                except ValueError as error:
                    return "not Python source: %s" % (error,)
                if "entrypoint" not in set(_names(tree)):
                    return "the script defines no entrypoint(argv) function"
                return ""

            """.utf8)
    }
}

extension PythonExecutor {
    /// Compiles the script in the sandbox (``PythonSourceCheck``): a syntax error, or a script
    /// without `entrypoint`, is `badPayload` naming it. An interpreter that cannot run the check
    /// (no runtime, the limits) is `unavailable`: the caller decides whether that blocks.
    public func validate(name: String, payload: [UInt8], limits: FunctionLimits) throws(ExecutorError) {
        guard String(validating: payload, as: UTF8.self) != nil else {
            throw .badPayload("a Python payload must be UTF-8 source text")
        }
        let verdict: String
        do {
            verdict = try execute(
                name: name, arguments: [:], payload: PythonSourceCheck.script(checking: payload),
                runtime: FunctionRuntime(inputs: [:], outputs: [:], limits: limits))
        } catch {
            throw .unavailable("the Python source check could not run: \(error)")
        }
        guard verdict.isEmpty else { throw .badPayload(verdict) }
    }
}
