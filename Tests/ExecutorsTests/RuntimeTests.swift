import Foundation
import ProtectedFiles
import Testing
@testable import Executors

@Suite struct RuntimeTests {
    @Test func unknownNamesListTheDeclaredOnes() throws {
        let workspace = try Workspace()
        let runtime = FunctionRuntime(
            plaintextInputs: ["b": try workspace.write("b", "1"), "a": try workspace.write("a", "2")],
            plaintextOutputs: ["result": workspace.path("result")])
        #expect(failure { try runtime.openInput("x") } == #"no input named "x"; declared inputs: a, b"#)
        #expect(failure { try runtime.createOutput("a") } == #"no output named "a"; declared outputs: result"#)
        #expect(failure { try FunctionRuntime().openInput("x") } == #"no input named "x"; declared inputs: none"#)
    }

    @Test func outputIsEncryptedAsWrittenAndDecryptsBack() throws {
        let workspace = try Workspace()
        let key = randomKey(.cloisterFile128)
        let runtime = FunctionRuntime(
            inputs: [:], outputs: ["report": StagedFile(path: workspace.path("report"), scheme: .cloisterFile128, key: key)])
        let output = try runtime.createOutput("report")
        // Larger than one 64 KiB chunk, written in uneven pieces.
        let text = (0..<20_000).map { "line \($0) of the confidential report\n" }.joined()
        var rest = Substring(text)
        while !rest.isEmpty {
            try output.write(String(rest.prefix(777)))
            rest = rest.dropFirst(777)
        }
        #expect(!workspace.exists("report"))
        try output.close()
        #expect(!workspace.exists("report.partial"))

        let stored = try workspace.read("report")
        #expect(stored.starts(with: Array("CLOISTRF".utf8)))
        #expect(!String(decoding: stored, as: UTF8.self).contains("confidential"))
        let reader = try ProtectedFileReader(scheme: .cloisterFile128, key: key, input: MemoryFile(stored))
        var plaintext: [UInt8] = []
        while let piece = try reader.read() { plaintext += piece }
        #expect(String(decoding: plaintext, as: UTF8.self) == text)
        #expect(runtime.outputTags == ["report": reader.tag!])
        #expect(failure { try output.write("more") } == #"output "report" is closed"#)
        #expect(failure { try runtime.createOutput("report") } == #"output "report" was already created"#)
    }

    @Test func encryptedInputsAreDecryptedAsRead() throws {
        let workspace = try Workspace()
        let text = (1...5000).map { "item \($0)\r\n" }.joined()
        for scheme in [Scheme.aesGCM128, .aesGCM256, .cloisterFile256] {
            let key = randomKey(scheme)
            let iv: [UInt8]? = scheme.takesIV ? (0..<12).map { UInt8($0) } : nil
            let sealed = MemoryFile()
            let writer = try ProtectedFileWriter(scheme: scheme, key: key, iv: iv, output: sealed)
            try writer.write(Array(text.utf8))
            _ = try writer.finish()
            let path = try workspace.write("input-\(scheme.rawValue)", sealed.bytes)
            let runtime = FunctionRuntime(inputs: ["data": StagedFile(path: path, scheme: scheme, key: key, iv: iv)], outputs: [:])
            let input = try runtime.openInput("data")
            var lines: [String] = []
            while let line = try input.nextLine() { lines.append(line) }
            #expect(lines == (1...5000).map { "item \($0)" })
            #expect(input.lineNumber == 5000)
            #expect(try runtime.openInput("data").readText() == text)

            var tampered = sealed.bytes
            tampered[tampered.count / 2] ^= 1
            let bad = try workspace.write("tampered-\(scheme.rawValue)", tampered)
            let tamperedRuntime = FunctionRuntime(inputs: ["data": StagedFile(path: bad, scheme: scheme, key: key, iv: iv)], outputs: [:])
            #expect(failure { try tamperedRuntime.openInput("data").readAll() }?.hasPrefix(#"file "data": authentication failed"#) == true)
        }
    }

    @Test func chunkAndLineReads() throws {
        let workspace = try Workspace()
        let runtime = FunctionRuntime(plaintextInputs: [
            "text": try workspace.write("text", "first\n\nthird\r\nlast without newline"),
            "empty": try workspace.write("empty", ""),
            "newline": try workspace.write("newline", "only\n"),
            "binary": try workspace.write("binary", [0x61, 0x0A, 0xFF, 0xFE, 0x0A]),
        ])
        let text = try runtime.openInput("text")
        #expect(try text.read(maxCount: 3) == Array("fir".utf8))
        #expect(try text.nextLine() == "st")
        #expect(try text.nextLine() == "")
        #expect(try text.nextLine() == "third")
        #expect(try text.read(maxCount: 5) == Array("last ".utf8))
        #expect(try text.readAll() == Array("without newline".utf8))
        #expect(try text.read(maxCount: 5) == [])
        #expect(try text.nextLine() == nil)

        #expect(try runtime.openInput("empty").nextLine() == nil)
        let newline = try runtime.openInput("newline")
        #expect(try newline.nextLine() == "only")
        #expect(try newline.nextLine() == nil)

        let binary = try runtime.openInput("binary")
        #expect(try binary.nextLine() == "a")
        #expect(failure { try binary.nextLine() } == #"input "binary" line 2: not valid UTF-8 text"#)
        #expect(failure { try runtime.openInput("binary").readText() } == #"input "binary": not valid UTF-8 text"#)
    }

    @Test func linesSpanningManyChunksAndTheLineLimit() throws {
        let workspace = try Workspace()
        let long = String(repeating: "x", count: 3 << 20)
        let tooLong = String(repeating: "y", count: FunctionInput.maxLineLength + 1)
        let limit = String(repeating: "z", count: FunctionInput.maxLineLength)
        let runtime = FunctionRuntime(plaintextInputs: [
            "long": try workspace.write("long", "a\n" + long + "\nb\n"),
            "tooLong": try workspace.write("tooLong", "a\n" + tooLong),
            "tooLongEnded": try workspace.write("tooLongEnded", tooLong + "\n"),
            "limit": try workspace.write("limit", limit + "\r\n"),
        ])
        let input = try runtime.openInput("long")
        #expect(try input.nextLine() == "a")
        #expect(try input.nextLine() == long)
        #expect(try input.nextLine() == "b")
        #expect(try input.nextLine() == nil)
        let limited = try runtime.openInput("tooLong")
        #expect(try limited.nextLine() == "a")
        #expect(failure { try limited.nextLine() } == #"input "tooLong" line 2: longer than 4194304 bytes"#)
        #expect(failure { try runtime.openInput("tooLongEnded").nextLine() } == #"input "tooLongEnded" line 1: longer than 4194304 bytes"#)
        #expect(try runtime.openInput("limit").nextLine() == limit)
    }

    @Test func anUnclosedOutputLeavesNothing() throws {
        let workspace = try Workspace()
        let runtime = FunctionRuntime(plaintextOutputs: ["out": workspace.path("out")])
        do {
            let output = try runtime.createOutput("out")
            try output.write("partial")
            withExtendedLifetime(output) { #expect(workspace.exists("out.partial")) }
        }
        #expect(!workspace.exists("out.partial"))
        #expect(!workspace.exists("out"))
        #expect(runtime.outputTags.isEmpty)
    }

    @Test func plaintextOutputsNeedToBeAllowed() throws {
        let workspace = try Workspace()
        let runtime = FunctionRuntime(inputs: [:], outputs: ["out": .plaintext(workspace.path("out"))])
        #expect(failure { try runtime.createOutput("out") } == #"file "out": the raw scheme is accepted for inputs only; outputs must be encrypted"#)
        #expect(!workspace.exists("out.partial"))
    }

    @Test func aMissingInputFileNamesTheInput() throws {
        let workspace = try Workspace()
        let runtime = FunctionRuntime(plaintextInputs: ["data": workspace.path("nothing-here")])
        #expect(failure { try runtime.openInput("data") }?.hasPrefix(#"file "data": cannot open "#) == true)
    }
}
