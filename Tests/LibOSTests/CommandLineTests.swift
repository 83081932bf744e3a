import CloisterTestSupport
import Foundation
import Testing
import LibOS

/// `cloister new` and `cloister run`, run as the real executable.
@Suite struct CommandLineTests {
    /// The `cloister` executable built beside the test bundle.
    static var executable: URL { CloisterExecutable.url }

    /// A fresh instance made by `cloister new`, with the test guests in image/bin.
    private func makeInstance() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-cli-\(UUID().uuidString)")
        let created = HostTool.run(CommandLineTests.executable.path, ["new", directory.path])
        #expect(created.status == 0, "\(created.output)")
        for name in ["hello", "exit_code", "args_env"] {
            try FileManager.default.copyItem(at: try TestGuests.path(name), to: directory.appendingPathComponent("image/bin/\(name).wasm"))
        }
        return directory
    }

    @Test func newWritesADocumentedInstance() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = try InstanceConfig.load(instanceDirectory: directory.path)
        #expect(config == InstanceConfig.default)
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("README.md").path))
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("data").path))
        // A folder that is not empty is refused.
        #expect(HostTool.run(CommandLineTests.executable.path, ["new", directory.path]).status != 0)
    }

    @Test func runReportsTheGuestsStatus() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tool = CommandLineTests.executable.path
        let hello = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/hello.wasm"])
        #expect(hello.status == 0)
        #expect(hello.output == "Hello from a Cloister guest!\n")
        #expect(HostTool.run(tool, ["run", "--instance", directory.path, "/bin/exit_code.wasm", "7"]).status == 7)
        // Arguments after the program go to the guest, even ones that look like options.
        let args = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/args_env.wasm", "--flag", "x"])
        #expect(args.output.contains("argv[1]=--flag"))
    }

    /// `cloister run` reads its plain shapes itself (GuestRun.quick) and leaves everything else
    /// to ArgumentParser: both must behave as one parser.
    @Test func runReadsItsOptionsTheWayArgumentParserDoes() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tool = CommandLineTests.executable.path
        let equals = HostTool.run(tool, ["run", "--instance=\(directory.path)", "--engine=wasmkit", "--timeout=30", "/bin/exit_code.wasm", "3"])
        #expect(equals.status == 3, "\(equals.output)")
        let help = HostTool.run(tool, ["run", "--help"])
        #expect(help.status == 0)
        #expect(help.output.contains("Run a guest program of an instance."))
        #expect(help.output.contains("--timeout <seconds>"))
        let unknown = HostTool.run(tool, ["run", "--instance", directory.path, "--bogus", "/bin/hello.wasm"])
        #expect(unknown.status == 64)
        #expect(unknown.output.contains("Unknown option '--bogus'"), "\(unknown.output)")
        let noPath = HostTool.run(tool, ["run", "--instance", directory.path])
        #expect(noPath.status == 64)
        #expect(noPath.output.contains("Missing expected argument '<path>'"), "\(noPath.output)")
        let zero = HostTool.run(tool, ["run", "--instance", directory.path, "--timeout", "0", "/bin/hello.wasm"])
        #expect(zero.status == 64)
        #expect(zero.output.contains("--timeout must be a number of seconds greater than 0"), "\(zero.output)")
        let word = HostTool.run(tool, ["run", "--instance", directory.path, "--timeout", "soon", "/bin/hello.wasm"])
        #expect(word.status == 64)
        #expect(word.output.contains("--timeout"), "\(word.output)")
    }

    @Test func programThatCannotStartIs127WithOneLine() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tool = CommandLineTests.executable.path
        let missing = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/nope.wasm"])
        #expect(missing.status == 127)
        #expect(missing.output.hasPrefix("cloister: cannot find /bin/nope.wasm"))
        #expect(missing.output.split(separator: "\n").count == 1)
        try Data("not wasm".utf8).write(to: directory.appendingPathComponent("image/bin/text.wasm"))
        let invalid = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/text.wasm"])
        #expect(invalid.status == 127)
        #expect(invalid.output.contains("not a WebAssembly module"))
        let noInstance = HostTool.run(tool, ["run", "--instance", directory.appendingPathComponent("nowhere").path, "/bin/hello.wasm"])
        #expect(noInstance.status == 127)
    }

    @Test func timeoutKillsAGuestPastItsWallClockLimit() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(try wat2wasmBytes(GuestSnippets.sleeper())).write(to: directory.appendingPathComponent("image/bin/sleeper.wasm"))
        let tool = CommandLineTests.executable.path
        let run = HostTool.run(tool, ["run", "--instance", directory.path, "--timeout", "0.5", "/bin/sleeper.wasm"])
        #expect(run.status == 128 + 9)
        #expect(run.output.contains("wall-clock limit of 500ms exceeded"), "\(run.output)")
        let bad = HostTool.run(tool, ["run", "--instance", directory.path, "--timeout", "-1", "/bin/sleeper.wasm"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("--timeout"))
    }

    @Test func trapAndSignalsGive128PlusSignal() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let trap = try wat2wasmBytes("(module (func (export \"_start\") unreachable))")
        try Data(trap).write(to: directory.appendingPathComponent("image/bin/trap.wasm"))
        let trapped = HostTool.run(CommandLineTests.executable.path, ["run", "--instance", directory.path, "/bin/trap.wasm"])
        #expect(trapped.status == 128 + 6)
        #expect(trapped.output.contains("trap"))

        // Prints "ready", then sleeps for an hour: SIGTERM to `cloister run` reaches it.
        let sleeper = try wat2wasmBytes("""
            (module
              (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
              (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 8) "\\00")
              (data (i32.const 16) "\\01\\00\\00\\00")
              (data (i32.const 24) "\\00\\68\\89\\12\\46\\03\\00\\00")
              (data (i32.const 300) "ready\\n")
              (data (i32.const 400) "\\2c\\01\\00\\00\\06\\00\\00\\00")
              (func (export "_start")
                (drop (call $write (i32.const 1) (i32.const 400) (i32.const 1) (i32.const 500)))
                (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))
            """)
        try Data(sleeper).write(to: directory.appendingPathComponent("image/bin/sleeper.wasm"))
        let process = Foundation.Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["run", "--instance", directory.path, "/bin/sleeper.wasm"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let ready = output.fileHandleForReading.availableData
        #expect(String(decoding: ready, as: UTF8.self) == "ready\n")
        process.terminate()  // SIGTERM
        #expect(eventually { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + 15)
    }

    /// A start function that spins: `--timeout` and SIGTERM still end the run.
    @Test func aSpinningStartFunctionMeetsTimeoutAndSigterm() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        try Data(try wat2wasmBytes(GuestEscapeTests.startSpinner)).write(to: directory.appendingPathComponent("image/bin/spin.wasm"))
        let tool = CommandLineTests.executable.path
        let run = HostTool.run(tool, ["run", "--instance", directory.path, "--timeout", "0.5", "/bin/spin.wasm"])
        #expect(run.status == 128 + 9)
        #expect(run.output.contains("wall-clock limit of 500ms exceeded"), "\(run.output)")
        let process = Foundation.Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["run", "--instance", directory.path, "/bin/spin.wasm"]
        try process.run()
        usleep(300_000)
        process.terminate()  // SIGTERM
        #expect(eventually(within: 30) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 128 + 15)
    }

    /// `--engine` chooses the engine; a name that is none is refused with the valid ones.
    @Test func engineOption() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tool = CommandLineTests.executable.path
        for engine in EngineKind.allCases {
            let run = HostTool.run(tool, ["run", "--instance", directory.path, "--engine", engine.rawValue, "/bin/hello.wasm"])
            #expect(run.status == 0)
            #expect(run.output == "Hello from a Cloister guest!\n", "\(engine)")
        }
        let bad = HostTool.run(tool, ["run", "--instance", directory.path, "--engine", "v8", "/bin/hello.wasm"])
        #expect(bad.status != 0)
        #expect(bad.output.contains("unknown engine \"v8\"; expected one of: wasmtime, wasmkit"), "\(bad.output)")
    }

    /// Without its library (or with a file that is not wasmtime 51.0.0) the guest still runs, on
    /// WasmKit, and one line says why.
    @Test func aMissingOrWrongWasmtimeLibraryFallsBackToWasmKit() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        let tool = CommandLineTests.executable.path
        var environment = ProcessInfo.processInfo.environment
        environment["CLOISTER_ENGINE"] = nil
        environment["CLOISTER_WASMTIME_LIB"] = directory.appendingPathComponent("no-such-library.so").path
        let missing = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/hello.wasm"], environment: environment)
        #expect(missing.status == 0)
        let lines = missing.output.split(separator: "\n").map(String.init)
        #expect(lines.count == 2, "\(missing.output)")
        #expect(lines.first?.hasPrefix("cloister: wasmtime is not available (cannot load ") == true, "\(missing.output)")
        #expect(lines.first?.hasSuffix("guests run on WasmKit, the slower reference engine") == true)
        #expect(lines.last == "Hello from a Cloister guest!")
        // A real shared library that is not wasmtime: refused by its version marker, never called.
        let other = ["/lib/x86_64-linux-gnu/libz.so.1", "/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libm.so.6"]
            .first { FileManager.default.fileExists(atPath: $0) }
        let library = try #require(other)
        environment["CLOISTER_WASMTIME_LIB"] = library
        let wrong = HostTool.run(tool, ["run", "--instance", directory.path, "/bin/hello.wasm"], environment: environment)
        #expect(wrong.status == 0)
        #expect(wrong.output.contains("is not wasmtime 51.0.0"), "\(wrong.output)")
        #expect(wrong.output.hasSuffix("Hello from a Cloister guest!\n"))
    }

    /// A `libwasmtime.so` planted under the folder `cloister` is started from is never loaded into
    /// the host: the library is looked for from the executable's own folder up
    /// (`InstalledRuntimes`), and a copy of the tool with none near it says it found none.
    @Test func aWasmtimeLibraryPlantedInTheCurrentFolderIsNeverLoaded() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        // The copy lives apart from the planted folder (walking up from the tool's own folder is
        // the search, and finds nothing there).
        let tools = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-tools-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: tools) }
        let alone = tools.appendingPathComponent("bin/cloister")
        try FileManager.default.createDirectory(at: alone.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: CommandLineTests.executable, to: alone)
        let planted = directory.appendingPathComponent(".build/runtimes/wasmtime/libwasmtime.so")
        try FileManager.default.createDirectory(at: planted.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data("not a library: loading it would run the planter's code".utf8).write(to: planted)
        var environment = ProcessInfo.processInfo.environment
        environment["CLOISTER_ENGINE"] = nil
        environment["CLOISTER_WASMTIME_LIB"] = nil
        let run = HostTool.run(alone.path, ["run", "--instance", directory.path, "/bin/hello.wasm"], environment: environment, in: directory)
        #expect(run.status == 0, "\(run.output)")
        let lines = run.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.hasPrefix("cloister: wasmtime is not available (wasmtime's library libwasmtime.so was not found") == true, "\(run.output)")
        #expect(!run.output.contains(planted.path) && !run.output.contains("cannot load"), "\(run.output)")
        #expect(lines.last == "Hello from a Cloister guest!")
    }

    /// Issue 20, item 1, as reported: a 10-line C guest polls an empty stdin pipe beside a 30-day
    /// clock. That trapped `cloister run` itself (SIGILL). The host survives now: the poll waits,
    /// answers the standard-input event when a line arrives, and the guest reads it.
    @Test func pollingAnEmptyStdinPipeWithAFarClockLeavesTheHostAlive() throws {
        let directory = try makeInstance()
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.copyItem(at: try TestGuests.path("poll_stdin"), to: directory.appendingPathComponent("image/bin/poll_stdin.wasm"))
        let process = Foundation.Process()
        process.executableURL = CommandLineTests.executable
        process.arguments = ["run", "--instance", directory.path, "/bin/poll_stdin.wasm"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var text = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        #expect(text == "polling\n")
        try input.fileHandleForWriting.write(contentsOf: Data("hello\n".utf8))
        #expect(eventually(within: 120) { !process.isRunning })
        process.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationReason == .exit && process.terminationStatus == 0, "\(process.terminationStatus)")
        #expect(text == "polling\nevents=1 userdata=1 type=1 error=0\nread hello\n")
    }
}
