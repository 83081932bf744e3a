import CloisterTestSupport
import CWordCount
import Executors
import Foundation
import Testing

// The "Adding Executors" guide (docs/adding-executors.md), step by step.
//
// The regions between `// guide: begin <name>` and `// guide: end <name>` are the guide's code,
// copied exactly; `theGuideHoldsThisFilesCode` fails when the guide and this file drift apart.
// This file imports only the public API of `Executors` (no `@testable`), as an executor in another
// module would.

// MARK: Step 1: implement FunctionExecutor

// guide: begin executor
/// Runs one function, `word-count`: counts the words of the input `text`.
///
/// - Argument `top` (optional, an integer from 1 to 100, default 10): how many of the most
///   frequent words the summary lists.
/// - Output `summary`: "words N", "distinct N", then the `top` most frequent words, one
///   "word count" a line, the most frequent first (ties in alphabetical order).
/// - Result: the number of words.
///
/// A word is a maximal run of letters and digits, compared lowercased. The payload is ignored.
public struct WordCountExecutor: FunctionExecutor {
    public static let functionName = "word-count"

    public init() {}

    public func execute(name: String, arguments: FunctionArguments, payload: [UInt8], runtime: FunctionRuntime) throws -> String {
        guard name == Self.functionName else {
            throw ExecutorError.unknownFunction(name: name, available: [Self.functionName])
        }
        // 1. Check every argument before touching a file.
        for argument in arguments.names where argument != "top" {
            throw ExecutorError.invalidArgument(name: argument, reason: "is unknown (word-count takes only \"top\")")
        }
        var top = 10
        if arguments["top"] != nil {
            top = try arguments.integer("top", in: 1...100)
        }

        // 2. Stream the input to its end (memory bounded by the longest line).
        let text = try runtime.openInput("text")
        var counts: [String: Int] = [:]
        var total = 0
        while let line = try text.nextLine() {
            for word in line.lowercased().split(whereSeparator: { !$0.isLetter && !$0.isNumber }) {
                counts[String(word), default: 0] += 1
                total += 1
            }
        }

        // 3. Write the output and close it: only a closed output appears at its staged path.
        let ranked = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let summary = try runtime.createOutput("summary")
        try summary.write("words \(total)\ndistinct \(counts.count)\n")
        for (word, count) in ranked.prefix(top) {
            try summary.write("\(word) \(count)\n")
        }
        try summary.close()

        // 4. The result string of the task.
        return String(total)
    }
}
// guide: end executor

// MARK: Step 4: link a C library

// guide: begin count-in-c
/// The number of words of `input`, counted by the C library a chunk at a time.
func countWordsInC(_ input: FunctionInput) throws -> Int {
    var inWord: Int32 = 0  // whether the last chunk ended inside a word
    var words = 0
    while true {
        let chunk = try input.read(maxCount: 64 << 10)
        if chunk.isEmpty { return words }
        words += chunk.withUnsafeBufferPointer { cwc_count_words($0.baseAddress, $0.count, &inWord) }
    }
}
// guide: end count-in-c

@Suite struct AddingExecutorsGuideTests {
    // MARK: Step 3: test it (the guide's tests, verbatim)

    // guide: begin test
    @Test func wordCountCountsAndSummarizes() throws {
        // A temporary folder: the input is written there, the output is staged beside it.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("word-count-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let textPath = folder.appendingPathComponent("text.txt").path
        let summaryPath = folder.appendingPathComponent("summary.txt").path
        try "The cat saw the other cat.\nThe end\n".write(toFile: textPath, atomically: true, encoding: .utf8)

        let runtime = FunctionRuntime(plaintextInputs: ["text": textPath], plaintextOutputs: ["summary": summaryPath])
        let result = try WordCountExecutor().execute(name: "word-count", arguments: ["top": 2], payload: [], runtime: runtime)

        #expect(result == "8")
        #expect(try String(contentsOfFile: summaryPath, encoding: .utf8) == "words 8\ndistinct 5\nthe 3\ncat 2\n")
    }

    @Test func wordCountRejectsBadArguments() throws {
        let executor = WordCountExecutor()
        let runtime = FunctionRuntime()  // no files: the arguments are checked before any file is opened
        #expect(throws: ExecutorError.invalidArgument(name: "top", reason: "must be between 1 and 100, got 0")) {
            try executor.execute(name: "word-count", arguments: ["top": 0], payload: [], runtime: runtime)
        }
        #expect(throws: ExecutorError.mistypedArgument(name: "top", expected: "an integer", found: #""many""#)) {
            try executor.execute(name: "word-count", arguments: ["top": "many"], payload: [], runtime: runtime)
        }
        // What the task's owner reads as the reason the task failed:
        do {
            _ = try executor.execute(name: "word-count", arguments: ["topp": 3], payload: [], runtime: runtime)
            Issue.record("an unknown argument was accepted")
        } catch {
            #expect("\(error)" == #"argument "topp" is unknown (word-count takes only "top")"#)
        }
    }
    // guide: end test

    // MARK: The guide's other claims, checked

    /// The pair the test registers the executor under. The guide adds `ExecutorType.text` and
    /// `Executor.wordcount`; a test cannot add enum cases to `Executors`, so it stands in an
    /// existing pair (registering replaces, in this test's registry only, the WebAssembly
    /// executor that `ExecutorRegistry.standard` has for it).
    static let pair = (type: ExecutorType.wasm, executor: Executor.wasmkit)

    @Test func step1_missingInputsAndOutputsNameTheDeclaredOnes() throws {
        let workspace = try Workspace()
        let text = try workspace.write("text.txt", "one two\n")
        let noInput = FunctionRuntime(plaintextInputs: ["txt": text], plaintextOutputs: ["summary": workspace.path("summary")])
        #expect(throws: ExecutorError.unknownInput(name: "text", declared: ["txt"])) {
            try WordCountExecutor().execute(name: "word-count", arguments: [:], payload: [], runtime: noInput)
        }
        let noOutput = FunctionRuntime(plaintextInputs: ["text": text], plaintextOutputs: [:])
        #expect(throws: ExecutorError.unknownOutput(name: "summary", declared: [])) {
            try WordCountExecutor().execute(name: "word-count", arguments: [:], payload: [], runtime: noOutput)
        }
        #expect(throws: ExecutorError.unknownFunction(name: "word-counts", available: ["word-count"])) {
            try WordCountExecutor().execute(name: "word-counts", arguments: [:], payload: [], runtime: noOutput)
        }
        #expect(!workspace.exists("summary"))
    }

    @Test func step2_unknownTypeAndExecutorStringsListTheValidOnes() {
        // Until the cases are added, the strings users would send are rejected with the valid ones.
        let types = ExecutorType.allCases.map(\.rawValue).joined(separator: ", ")
        let executors = Executor.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(throws: ExecutorError.unknownExecutorType("text")) { try ExecutorType(parsing: "text") }
        #expect(throws: ExecutorError.unknownExecutor("wordcount")) { try Executor(parsing: "wordcount") }
        #expect(failure { try ExecutorType(parsing: "text") } == #"unknown executor type "text" (valid: \#(types))"#)
        #expect(failure { try Executor(parsing: "wordcount") } == #"unknown executor "wordcount" (valid: \#(executors))"#)
    }

    @Test func step2_theRegistryRunsItOnStagedFiles() throws {
        // What the worker does: the standard registry plus registrations.
        var registry = ExecutorRegistry.standard
        registry.register(Self.pair.type, Self.pair.executor) { WordCountExecutor() }
        #expect(registry.isRegistered(type: Self.pair.type, executor: Self.pair.executor))

        // The pair parsed from the strings of register_function and create_task.
        let type = try ExecutorType(parsing: Self.pair.type.rawValue)
        let executor = try Executor(parsing: Self.pair.executor.rawValue)

        let workspace = try Workspace()
        let text = try workspace.write("text.txt", "Zebra apple, zebra: APPLE zebra\r\n\nÜber über 42 42 42 42\nlast line without newline")
        let runtime = FunctionRuntime(
            plaintextInputs: ["text": text], plaintextOutputs: ["summary": workspace.path("summary.txt")])
        let result = try registry.executor(type: type, executor: executor)
            .execute(name: "word-count", arguments: ["top": "3"], payload: [], runtime: runtime)
        #expect(result == "15")
        #expect(try workspace.readText("summary.txt") == "words 15\ndistinct 8\n42 4\nzebra 3\napple 2\n")
        #expect(runtime.outputTags["summary"] == [])  // a plaintext output has no integrity tag

        // The default `top` is 10: all 8 words are listed.
        let again = FunctionRuntime(plaintextInputs: ["text": text], plaintextOutputs: ["summary": workspace.path("all.txt")])
        _ = try registry.executor(type: type, executor: executor).execute(name: "word-count", arguments: [:], payload: [], runtime: again)
        #expect(try workspace.readText("all.txt").split(separator: "\n").count == 2 + 8)

        // The standard registrations are still there.
        let builtin = try registry.executor(type: .builtin, executor: .builtin)
        #expect(try builtin.execute(name: "builtin-echo", arguments: ["message": "hi"], payload: [], runtime: FunctionRuntime()) == "hi")
    }

    @Test func step2_anUnregisteredPairIsNotAvailable() {
        var registry = ExecutorRegistry.standard
        registry.register(Self.pair.type, Self.pair.executor) { WordCountExecutor() }
        #expect(throws: ExecutorError.functionNotAvailable(.python, .wasmkit)) {
            try registry.executor(type: .python, executor: .wasmkit)
        }
        #expect(failure { try registry.executor(type: .python, executor: .wasmkit) } == "function not available: python/wasmkit")
        #expect(failure { try ExecutorRegistry().executor(type: Self.pair.type, executor: Self.pair.executor) }
            == "function not available: \(Self.pair.type.rawValue)/\(Self.pair.executor.rawValue)")
    }

    @Test func step1_aBadInputFailsBeforeAnyOutputIsWritten() throws {
        let workspace = try Workspace()
        let text = try workspace.write("text.txt", [0x61, 0x62, 0x0A, 0xFF, 0xFE, 0x0A])  // line 2 is not UTF-8
        let runtime = FunctionRuntime(plaintextInputs: ["text": text], plaintextOutputs: ["summary": workspace.path("summary.txt")])
        #expect(throws: ExecutorError.badInput(name: "text", line: 2, reason: "not valid UTF-8 text")) {
            try WordCountExecutor().execute(name: "word-count", arguments: [:], payload: [], runtime: runtime)
        }
        #expect(!workspace.exists("summary.txt"))
    }

    @Test func step4_theCLibraryCountsTheSameWords() throws {
        // Chunks may split a word: `in_word` carries it over.
        var inWord: Int32 = 0
        let first = Array("hel".utf8).withUnsafeBufferPointer { cwc_count_words($0.baseAddress, $0.count, &inWord) }
        let second = Array("lo, world".utf8).withUnsafeBufferPointer { cwc_count_words($0.baseAddress, $0.count, &inWord) }
        #expect(first == 1 && second == 1 && inWord == 1)

        // More than one 64 KiB chunk of ASCII text: the same count as the Swift executor's.
        let words = (0..<40_000).map { "w\($0 * 7919 % 100_003)" }
        let content = stride(from: 0, to: words.count, by: 7).map { words[$0..<min($0 + 7, words.count)].joined(separator: " ") }
            .joined(separator: ".\n")
        let workspace = try Workspace()
        let text = try workspace.write("text.txt", content)
        let runtime = FunctionRuntime(plaintextInputs: ["text": text], plaintextOutputs: ["summary": workspace.path("summary.txt")])
        #expect(try countWordsInC(runtime.openInput("text")) == words.count)
        #expect(try WordCountExecutor().execute(name: "word-count", arguments: [:], payload: [], runtime: runtime) == String(words.count))
    }

    // MARK: The guide and this file hold the same code

    @Test func theGuideHoldsThisFilesCode() throws {
        let guide = try String(contentsOf: PackagePaths.root.appendingPathComponent("docs/adding-executors.md"), encoding: .utf8)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        for name in ["executor", "count-in-c", "test"] {
            let region = try #require(Self.region(name, in: source), "no region \(name)")
            let held = guide.contains(region)  // (not in #expect, which would print the whole guide)
            #expect(held, "the guide does not hold the region \"\(name)\" of this file verbatim")
        }
        // The C library and its Package.swift entries, as the guide shows them.
        let root = PackagePaths.root
        for file in ["Tests/CWordCount/include/cword_count.h", "Tests/CWordCount/word_count.c"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            let held = guide.contains(text)
            #expect(held, "the guide does not hold \(file) verbatim")
        }
        let package = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        for line in [#".target(name: "CWordCount", path: "Tests/CWordCount"),"#, #""CWordCount","#] {
            let inPackage = package.contains(line), inGuide = guide.contains(line)
            #expect(inPackage, "Package.swift lacks \(line)")
            #expect(inGuide, "the guide lacks \(line)")
        }
    }

    /// The lines between `// guide: begin <name>` and `// guide: end <name>`, without their
    /// common indentation, ending with a newline.
    static func region(_ name: String, in source: String) -> String? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard let begin = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "// guide: begin \(name)" }),
              let end = lines.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == "// guide: end \(name)" }),
              begin < end
        else { return nil }
        let body = lines[(begin + 1)..<end]
        let indent = body.filter { !$0.allSatisfy(\.isWhitespace) }.map { $0.prefix(while: { $0 == " " }).count }.min() ?? 0
        return body.map { $0.allSatisfy(\.isWhitespace) ? "" : String($0.dropFirst(indent)) }.joined(separator: "\n") + "\n"
    }
}
