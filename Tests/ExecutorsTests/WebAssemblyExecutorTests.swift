import CloisterTestSupport
import Foundation
import LibOS
import ProtectedFiles
import Testing
import WAT

@testable import Executors

/// The WebAssembly executor on real payloads: C built with the wasm toolchain
/// (`examples/functions`, `Tests/Guests/functions`) and WAT.
@Suite struct WebAssemblyExecutorTests {
    let workspace: Workspace

    init() throws { workspace = try Workspace() }

    private func payload(_ name: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: try TestGuests.path("functions/\(name)")))
    }

    private func runtime(inputs: [String: String] = [:], outputs: [String] = [], limits: FunctionLimits = .standard) throws -> FunctionRuntime {
        var inputPaths: [String: String] = [:]
        for (name, content) in inputs { inputPaths[name] = try workspace.write("in-\(name)", content) }
        return FunctionRuntime(
            plaintextInputs: inputPaths,
            plaintextOutputs: Dictionary(uniqueKeysWithValues: outputs.map { ($0, workspace.path("out-\($0)")) }),
            limits: limits)
    }

    private func run(_ payload: [UInt8], _ arguments: FunctionArguments = [:], _ runtime: FunctionRuntime, name: String = "f") throws -> String {
        try WebAssemblyExecutor().execute(name: name, arguments: arguments, payload: payload, runtime: runtime)
    }

    @Test func privateSetIntersectionThroughTheFileImports() throws {
        let runtime = try runtime(
            inputs: ["input_data1": "alice\nbob\ncarol\ndave\n", "input_data2": "carol\nerin\nalice\n"],
            outputs: ["output_result1", "output_result2"])
        let result = try run(try payload("psi"), [:], runtime)
        #expect(result == "2")
        #expect(try workspace.readText("out-output_result1") == "1\n0\n1\n0\n")
        #expect(try workspace.readText("out-output_result2") == "1\n0\n1\n")
    }

    @Test func encryptedInputsAreDecryptedInAndOutputsEncryptedOutForTheirOwners() throws {
        func seal(_ text: String, _ key: [UInt8]) throws -> String {
            let sealed = MemoryFile()
            let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: key, iv: nil, output: sealed)
            try writer.write(Array(text.utf8))
            _ = try writer.finish()
            return try workspace.write("sealed-\(UUID().uuidString)", sealed.bytes)
        }
        func open(_ name: String, _ key: [UInt8]) throws -> String {
            let reader = try ProtectedFileReader(scheme: .cloisterFile256, key: key, input: MemoryFile(try workspace.read(name)))
            var plaintext: [UInt8] = []
            while let piece = try reader.read() { plaintext += piece }
            return String(decoding: plaintext, as: UTF8.self)
        }
        let alice = randomKey(.cloisterFile256), bob = randomKey(.cloisterFile256)
        let runtime = FunctionRuntime(
            inputs: [
                "input_data1": StagedFile(path: try seal("apple\nbanana\ncherry\n", alice), scheme: .cloisterFile256, key: alice),
                "input_data2": StagedFile(path: try seal("cherry\napple\n", bob), scheme: .cloisterFile256, key: bob),
            ],
            outputs: [
                "output_result1": StagedFile(path: workspace.path("r1"), scheme: .cloisterFile256, key: alice),
                "output_result2": StagedFile(path: workspace.path("r2"), scheme: .cloisterFile256, key: bob),
            ])
        #expect(try run(try payload("psi"), [:], runtime) == "2")
        #expect(!String(decoding: try workspace.read("r1"), as: UTF8.self).contains("1\n0"), "stored encrypted")
        #expect(try open("r1", alice) == "1\n0\n1\n")
        #expect(try open("r2", bob) == "1\n1\n")
        #expect(failure { try open("r1", bob) } != nil, "only its owner's key opens an output")
        #expect(Set(runtime.outputTags.keys) == ["output_result1", "output_result2"])
    }

    @Test func wasiCommandGetsArgvFilesAndItsStdoutIsTheResult() throws {
        let runtime = try runtime(inputs: ["text": "The cat and the hat. A cat!"], outputs: ["counts"])
        let result = try run(try payload("wordcount"), ["min_length": .number(3)], runtime, name: "wordcount")
        #expect(result == "6 words, 4 distinct")
        #expect(try workspace.readText("out-counts") == "the 2\ncat 2\nand 1\nhat 1\n")
    }

    @Test func aCommandThatFailsGivesItsStatusAndLastErrorLine() throws {
        let runtime = try runtime(inputs: ["text": "x"], outputs: ["counts"])
        let error = failure { try run(try payload("wordcount"), ["min_length": .number(0)], runtime) }
        #expect(error == "exited with status 1: min_length must be at least 1")
        #expect(runtime.log.contains("min_length must be at least 1"))
        #expect(!workspace.exists("out-counts"), "no output is delivered from a failed run")
    }

    @Test func teaclaveImportNamesAreAliases() throws {
        let text = String(repeating: "0123456789", count: 50)
        let runtime = try runtime(inputs: ["in": text], outputs: ["out"])
        #expect(try run(try payload("misbehave"), ["mode": .string("teaclave")], runtime) == "500")
        #expect(try workspace.readText("out-out") == text)
    }

    @Test func aTrapFailsTheRunAndSaysSo() throws {
        let error = failure { try run(try payload("misbehave"), ["mode": .string("trap")], try runtime()) } ?? ""
        #expect(error.hasPrefix("trapped: trap: "), "\(error)")
        #expect(error.contains("unreachable"), "\(error)")
    }

    @Test func anInfiniteLoopIsStoppedByItsDeadline() throws {
        let limits = FunctionLimits(memory: 64 << 20, timeout: 1_000_000_000)
        let error = failure { try run(try payload("misbehave"), ["mode": .string("loop")], try runtime(limits: limits)) }
        #expect(error == "deadline exceeded: the function ran longer than 1s")
    }

    /// A payload whose start function spins runs before any entry: its deadline and a cancel
    /// still stop it (the start function runs once the process can be interrupted).
    @Test func aSpinningStartFunctionMeetsTheDeadlineAndCancel() throws {
        let spinner = try wat2wasm("""
            (module (memory (export "memory") 1)
              (func $spin (loop $forever (br $forever)))
              (start $spin)
              (func (export "_start")))
            """)
        let limits = FunctionLimits(memory: 64 << 20, timeout: 1_000_000_000)
        let late = failure { try run(spinner, [:], try runtime(limits: limits)) }
        #expect(late == "deadline exceeded: the function ran longer than 1s", "\(late ?? "")")
        let function = try runtime(limits: FunctionLimits(memory: 64 << 20, timeout: 600_000_000_000))
        Thread {
            usleep(300_000)
            function.cancel()
        }.start()
        let canceled = failure { try run(spinner, [:], function) }
        #expect(canceled == "canceled", "\(canceled ?? "")")
    }

    @Test func aMemoryBombIsStoppedByItsLimit() throws {
        let limits = FunctionLimits(memory: 16 << 20, timeout: 60_000_000_000)
        let error = failure { try run(try payload("misbehave"), ["mode": .string("bomb")], try runtime(limits: limits)) } ?? ""
        #expect(error.hasPrefix("out of memory: linear memory of"), "\(error)")
        #expect(error.contains("over the process limit of 16777216 bytes"), "\(error)")
    }

    @Test func theFileImportsRefuseEscapesAndUndeclaredNames() throws {
        let runtime = try runtime(inputs: ["in": "secret"], outputs: ["out"])
        #expect(try run(try payload("misbehave"), ["mode": .string("escape")], runtime) == "7")
        #expect(try workspace.readText("out-out") == "", "a declared output the function never wrote is delivered empty")
    }

    @Test func badPointersAndBadDescriptorsAreErrorsNotCrashes() throws {
        let runtime = try runtime(inputs: ["in": "data"], outputs: [])
        #expect(try run(try payload("misbehave"), ["mode": .string("badptr")], runtime) == "5")
    }

    @Test func aCancelStopsTheRun() throws {
        let runtime = try runtime()
        let started = Date()
        Thread {
            Thread.sleep(forTimeInterval: 0.5)
            runtime.cancel()
        }.start()
        let error = failure { try run(try payload("misbehave"), ["mode": .string("loop")], runtime) }
        #expect(error == "canceled")
        #expect(Date().timeIntervalSince(started) < 30)
    }

    @Test func anUndeclaredOutputFailsTheRun() throws {
        let module = try wat2wasm("""
            (module
              (import "wasi_snapshot_preview1" "path_open"
                (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 16) "outputs/stray")
              (func (export "_start")
                ;; fd 3 is the preopened root; create outputs/stray (O_CREAT), fd written at 64
                (drop (call $open (i32.const 3) (i32.const 0) (i32.const 16) (i32.const 13) (i32.const 1)
                  (i64.const 0x7fffffff) (i64.const 0x7fffffff) (i32.const 0) (i32.const 64)))))
            """)
        let error = failure { try run(module, [:], try runtime(outputs: ["out"])) }
        #expect(error == "the function wrote /outputs/stray, which it did not declare; declared outputs: out")
        #expect(!workspace.exists("out-out"))
    }

    @Test func payloadsThatCannotRunAreBadPayloads() throws {
        #expect(failure { try run(Array("print('hi')".utf8), [:], try runtime()) } == "bad payload: the payload is not a WebAssembly module")
        let library = try wat2wasm(#"(module (func (export "helper")))"#)
        #expect(failure { try run(library, [:], try runtime()) } == "bad payload: the module exports neither entrypoint(argc, argv) nor _start")
        let wrongType = try wat2wasm(#"(module (memory (export "memory") 1) (func (export "entrypoint") (param i32) (result i32) i32.const 0))"#)
        let error = failure { try run(wrongType, [:], try runtime()) } ?? ""
        #expect(error.contains("entrypoint must be (i32, i32) -> i32"), "\(error)")
        let importsSomethingElse = try wat2wasm(#"(module (import "env" "system" (func)) (func (export "_start")))"#)
        let refused = failure { try run(importsSomethingElse, [:], try runtime()) } ?? ""
        #expect(refused.hasPrefix("bad payload: "), "\(refused)")
        #expect(refused.contains("env.system"), "\(refused)")
    }

    @Test func registeredUnderWasmAndWasmkit() throws {
        var registry = ExecutorRegistry.standard
        registry.registerWebAssembly()
        let executor = try registry.executor(type: .wasm, executor: .wasmkit)
        #expect(executor is WebAssemblyExecutor)
    }
}
