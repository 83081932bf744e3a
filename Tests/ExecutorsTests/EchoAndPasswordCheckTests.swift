import Testing
@testable import Executors

@Suite struct EchoAndPasswordCheckTests {
    @Test func echoReturnsTheMessage() throws {
        let workspace = try Workspace()
        #expect(try workspace.run("builtin-echo", ["message": "Hello, Cloister! ünïcode"]).result == "Hello, Cloister! ünïcode")
        #expect(failure { try workspace.run("builtin-echo") } == #"missing argument "message""#)
        #expect(failure { try workspace.run("builtin-echo", ["message": 42]) } == #"argument "message" must be a string, got 42"#)
    }

    static let exposed = (0..<50_000).map { "leaked-\($0 * 7919 % 100_003)" }.joined(separator: "\n") + "\n  hunter2  \nletmein\n"

    @Test func aPasswordAmongTheExposedOnesIsFound() throws {
        let workspace = try Workspace()
        let inputs = { (password: String) in ["password": password, "exposed_passwords": Self.exposed] }
        #expect(try workspace.run("builtin-password-check", inputs: inputs("hunter2\n")).result == "true")
        #expect(try workspace.run("builtin-password-check", inputs: inputs("letmein")).result == "true")
        #expect(try workspace.run("builtin-password-check", inputs: inputs("leaked-7919\nsecond line ignored")).result == "true")
        #expect(try workspace.run("builtin-password-check", inputs: inputs("correct horse battery staple\n")).result == "false")
        #expect(try workspace.run("builtin-password-check", inputs: inputs("leaked")).result == "false")
    }

    @Test func passwordCheckBadInputs() throws {
        let workspace = try Workspace()
        #expect(failure { try workspace.run("builtin-password-check", inputs: ["password": "\n", "exposed_passwords": "a"]) }
            == #"input "password" line 1: no password on the first line"#)
        #expect(failure { try workspace.run("builtin-password-check", inputs: ["password": "a"]) }
            == #"no input named "exposed_passwords"; declared inputs: password"#)
        #expect(failure { try workspace.run("builtin-password-check", inputs: ["passwd": "a", "exposed_passwords": "a"]) }
            == #"no input named "password"; declared inputs: exposed_passwords, passwd"#)
    }
}
