import CloisterTestSupport
import Foundation
import Testing

/// The C sample `examples/cloister-run.c`, built with `cc` against the library, runs guests as
/// `cloister run` does: the guest's exit code, 128+signal, 127 with one line when it cannot start.
@Suite struct CloisterRunTests {
    private func run(_ instance: InstanceFolder, _ arguments: [String], environment: [String: String]? = nil, stdin: String = "") throws -> HostCommand.Result {
        try HostCommand.run(try CPrograms.cloisterRun(), ["--instance", instance.path] + arguments, environment: environment, stdin: stdin)
    }

    @Test func successAndExitCodes() throws {
        let instance = try InstanceFolder()
        let hello = try run(instance, ["/bin/hello.wasm"])
        #expect(hello.status == 0)
        #expect(hello.stdout == "Hello from a Cloister guest!\n")
        #expect(hello.stderr == "")
        #expect(try run(instance, ["/bin/exit_code.wasm", "3"]).status == 3)
        #expect(try run(instance, ["/bin/exit_code.wasm", "255"]).status == 255)
        #expect(try run(instance, ["/bin/exit_code.wasm", "300"]).status == 300 & 0xff)
        // --instance=DIR works too.
        let equals = try HostCommand.run(try CPrograms.cloisterRun(), ["--instance=\(instance.path)", "/bin/exit_code.wasm", "9"])
        #expect(equals.status == 9)
    }

    @Test func argumentsEnvironmentAndStdio() throws {
        let instance = try InstanceFolder()
        // Arguments after the program go to the guest, even ones that look like options.
        let args = try run(instance, ["/bin/args_env.wasm", "--flag", "x y"], environment: ["LANG": "xx_TEST", "SECRET": "1", "PATH": "/usr/bin:/bin"])
        #expect(args.status == 0)
        #expect(args.stdout.contains("argc=3\nargv[0]=/bin/args_env.wasm\nargv[1]=--flag\nargv[2]=x y\n"))
        // The environment is untrusted: only env.untrusted names (TERM, LANG) get through.
        #expect(args.stdout.contains("env LANG=xx_TEST"))
        #expect(args.stdout.contains("env HOME=/root"))
        #expect(!args.stdout.contains("SECRET"))
        #expect(args.stdout.contains("env PATH=/bin\n"))
        // stdin and stdout are this program's.
        let echo = try run(instance, ["/bin/stdin_echo.wasm"], stdin: "through the PAL\n")
        #expect(echo.status == 0)
        #expect(echo.stdout == "through the PAL\n")
    }

    @Test func trappedGuestIs128PlusSignalWithOneLine() throws {
        let instance = try InstanceFolder()
        let trap = try instance.install(wat: GuestSnippets.trap, as: "trap")
        let trapped = try run(instance, [trap])
        #expect(trapped.status == 128 + 6)
        #expect(trapped.stderr == "cloister-run: \(trap): killed by signal 6 (Aborted)\n")
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalToTheEmbedderEndsTheGuest(signal: Int32) throws {
        let instance = try InstanceFolder()
        let spinner = try instance.install(wat: GuestSnippets.spinner, as: "spinner")
        let command = try HostCommand(try CPrograms.cloisterRun(), ["--instance", instance.path, spinner])
        #expect(eventually(within: 60) { command.stdoutSoFar == "spinning\n" })
        command.send(signal)
        let result = command.wait(timeout: 300)
        #expect(!result.timedOut)
        // Both are passed on as SIGTERM, the strongest polite signal the PAL accepts.
        #expect(result.status == 128 + 15)
        #expect(result.stderr == "")
    }

    @Test func programThatCannotStartIs127WithOneLine() throws {
        let instance = try InstanceFolder()
        try instance.install(bytes: Array("not wasm".utf8), as: "text")
        let cases: [([String], String)] = [
            (["/bin/nope.wasm"], "cloister-run: cannot create /bin/nope.wasm: No such file or directory\n"),
            (["/xbin/text.wasm"], "cloister-run: cannot create /xbin/text.wasm: Exec format error\n"),
            (["/data/x.wasm"], "cloister-run: cannot create /data/x.wasm: Permission denied\n"),
            (["bin/hello.wasm"], "cloister-run: cannot create bin/hello.wasm: Invalid argument\n"),
        ]
        for (arguments, line) in cases {
            let result = try run(instance, arguments)
            #expect(result.status == 127, "\(arguments)")
            #expect(result.stderr == line)
            #expect(result.stdout == "")
        }
        let nowhere = instance.directory.appendingPathComponent("nowhere").path
        let noInstance = try HostCommand.run(try CPrograms.cloisterRun(), ["--instance", nowhere, "/bin/hello.wasm"])
        #expect(noInstance.status == 127)
        #expect(noInstance.stderr == "cloister-run: cannot start the instance \(nowhere): Invalid argument\n")
        let badLevel = try run(instance, ["/bin/hello.wasm"], environment: ["CLOISTER_LOG_LEVEL": "loud"])
        #expect(badLevel.status == 127)
    }

    @Test func usageAndLogLevel() throws {
        let instance = try InstanceFolder()
        let tool = try CPrograms.cloisterRun()
        #expect(try HostCommand.run(tool, []).status == 64)
        #expect(try HostCommand.run(tool, ["--instance"]).status == 64)
        #expect(try HostCommand.run(tool, ["--bogus", "/bin/hello.wasm"]).status == 64)
        let help = try HostCommand.run(tool, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.hasPrefix("usage: cloister-run [--instance DIR] PATH [ARGS...]"))
        // CLOISTER_LOG_LEVEL reaches the library's log.
        let traced = try run(instance, ["/bin/hello.wasm"], environment: ["CLOISTER_LOG_LEVEL": "trace"])
        #expect(traced.status == 0)
        #expect(traced.stderr.contains("[trace]"))
    }
}
