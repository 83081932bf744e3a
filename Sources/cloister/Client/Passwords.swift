import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where the client commands take passwords from: an environment variable, a prompt that does
/// not echo (when standard input is a terminal), or the lines of standard input (for scripts).
/// A password is never an option: options show in `ps` and in the shell's history.
enum Passwords {
    /// A password from the environment variable `environment` when it is set (nil: skip it),
    /// else from a no-echo `prompt` on a terminal, else the next line of standard input.
    /// With `confirm`, a prompt asks twice and the two must match.
    static func read(environment: String?, prompt: String, confirm: Bool = false) throws -> String {
        if let environment, let value = ProcessInfo.processInfo.environment[environment] {
            guard !value.isEmpty else { throw ValidationError("\(environment) is set but empty") }
            return value
        }
        guard isatty(STDIN_FILENO) == 1 else {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("no password on standard input (or set \(environment ?? "a terminal"))")
            }
            return line
        }
        let first = try promptWithoutEcho(prompt)
        if confirm {
            let second = try promptWithoutEcho("Again: ")
            guard first == second else { throw ValidationError("the two passwords differ") }
        }
        guard !first.isEmpty else { throw ValidationError("no password given") }
        return first
    }

    /// Shows `prompt` on standard error and reads one line from the terminal on standard input
    /// with echo off (the newline is still echoed). Echo comes back even on Ctrl-C.
    private static func promptWithoutEcho(_ prompt: String) throws -> String {
        var saved = termios()
        guard tcgetattr(STDIN_FILENO, &saved) == 0 else { throw ValidationError("cannot read the terminal's settings") }
        var silent = saved
        silent.c_lflag &= ~tcflag_t(ECHO)
        silent.c_lflag |= tcflag_t(ECHONL)
        // Echo off first, then the prompt: what is typed once the prompt shows is never echoed
        // (and never discarded by the flush of what was typed ahead).
        TerminalRestore.arm(saved)
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
        FileHandle.standardError.write(Data(prompt.utf8))
        defer {
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved)
            TerminalRestore.disarm()
        }
        guard let line = readLine(strippingNewline: true) else { throw ValidationError("no password given") }
        return line
    }
}

/// Puts the terminal's settings back when SIGINT or SIGTERM arrives during a prompt.
private enum TerminalRestore {
    nonisolated(unsafe) static var saved = termios()

    static func arm(_ settings: termios) {
        saved = settings
        for number in [SIGINT, SIGTERM] {
            _ = signal(number) { received in
                tcsetattr(STDIN_FILENO, TCSANOW, &TerminalRestore.saved)
                _ = write(STDERR_FILENO, "\n", 1)
                _exit(128 + received)
            }
        }
    }

    static func disarm() {
        _ = signal(SIGINT, SIG_DFL)
        _ = signal(SIGTERM, SIG_DFL)
    }
}
