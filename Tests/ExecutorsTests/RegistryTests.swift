import Testing
@testable import Executors

@Suite struct RegistryTests {
    @Test func typesAndExecutorsParseFromTheirStrings() throws {
        #expect(try ExecutorType(parsing: "wasm") == .wasm)
        #expect(try ExecutorType(parsing: "python") == .python)
        #expect(try Executor(parsing: "wasmkit") == .wasmkit)
        #expect(try Executor(parsing: "cpython") == .cpython)
        #expect(failure { try ExecutorType(parsing: "mesapy") } == #"unknown executor type "mesapy" (valid: builtin, python, wasm)"#)
        #expect(failure { try Executor(parsing: "wamr") } == #"unknown executor "wamr" (valid: builtin, cpython, cpython-sci, wasmkit)"#)
    }

    @Test func anUnregisteredPairIsNotAvailable() {
        let registry = ExecutorRegistry.standard
        #expect(failure { try registry.executor(type: .python, executor: .wasmkit) } == "function not available: python/wasmkit")
        #expect(failure { try registry.executor(type: .builtin, executor: .wasmkit) } == "function not available: builtin/wasmkit")
        #expect(failure { try ExecutorRegistry().executor(type: .builtin, executor: .builtin) } == "function not available: builtin/builtin")
    }

    @Test func registeredExecutorsAreBuiltPerTask() throws {
        struct Constant: FunctionExecutor {
            let answer: String
            func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String {
                answer + name + String(decoding: payload, as: UTF8.self)
            }
        }
        var registry = ExecutorRegistry()
        registry.registerBuiltins()
        #expect(registry.isRegistered(type: .builtin, executor: .builtin))
        #expect(!registry.isRegistered(type: .wasm, executor: .wasmkit))
        registry.register(.wasm, .wasmkit) { Constant(answer: "ran ") }
        #expect(registry.isRegistered(type: .wasm, executor: .wasmkit))
        let runtime = FunctionRuntime()
        let wasm = try registry.executor(type: .wasm, executor: .wasmkit)
        #expect(try wasm.execute(name: "f", arguments: [:], payload: Array(" payload".utf8), runtime: runtime) == "ran f payload")
        let builtin = try registry.executor(type: .builtin, executor: .builtin)
        #expect(try builtin.execute(name: "builtin-echo", arguments: ["message": "hi"], payload: [], runtime: runtime) == "hi")
    }

    @Test func theStandardRegistryHasEveryShippedExecutor() {
        let registry = ExecutorRegistry.standard
        #expect(registry.isRegistered(type: .builtin, executor: .builtin))
        #expect(registry.isRegistered(type: .wasm, executor: .wasmkit))
        #expect(registry.isRegistered(type: .python, executor: .cpython))
    }

    @Test func anUnknownBuiltinListsTheBuiltins() {
        let message = failure { try BuiltinExecutor().execute(name: "builtin-face-detection", arguments: [:], payload: [], runtime: FunctionRuntime()) }
        #expect(message == #"unknown builtin function "builtin-face-detection" (available: "# + BuiltinExecutor.functionNames.joined(separator: ", ") + ")")
        #expect(BuiltinExecutor.functionNames == [
            "builtin-echo", "builtin-password-check", "builtin-ordered-set-intersect", "builtin-ordered-set-join",
            "builtin-private-join-and-compute", "builtin-logistic-regression-train", "builtin-logistic-regression-predict",
            "builtin-gbdt-train", "builtin-gbdt-predict", "builtin-principal-components-analysis", "builtin-rsa-sign",
            "builtin-online-decrypt",
        ])
    }
}
