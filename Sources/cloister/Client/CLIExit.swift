import CloisterClient
import Foundation

/// The exit statuses of the client commands, one per kind of outcome, so that scripts can tell
/// a refusal from an unreachable server or a task that failed. `cloister --help` and the
/// README list them.
enum CLIExit: Int32, CaseIterable {
    /// Done (`task wait`: the task Finished).
    case success = 0
    /// The server refused the call (its message is shown), or a local file could not be read or written.
    case error = 1
    /// Not logged in, or the kept token no longer works: log in again.
    case notLoggedIn = 2
    /// No answer from the server: nothing listens there, a TLS mismatch, an untrusted
    /// certificate, a timeout.
    case unreachable = 3
    /// `task wait`: the task ended Failed or Canceled (it is printed all the same).
    case taskFailed = 4
    /// `task wait`: the task waits for an action of yours (assign, approve, invoke), so waiting
    /// would never end.
    case yourTurn = 5
    /// `task wait`: `--timeout` passed first.
    case waitTimeout = 6

    /// What the status means, for help texts.
    var meaning: String {
        switch self {
        case .success: return "done (task wait: the task Finished)"
        case .error: return "the server refused the call, or a local file could not be read or written"
        case .notLoggedIn: return "not logged in, or the session's token no longer works"
        case .unreachable: return "no answer from the server (nothing listening, TLS mismatch, untrusted certificate, timeout)"
        case .taskFailed: return "task wait: the task ended Failed or Canceled"
        case .yourTurn: return "task wait: the task waits for your action (assign, approve or invoke)"
        case .waitTimeout: return "task wait: --timeout passed"
        }
    }

    /// The table of exit statuses, with 64 for a wrong command line.
    static var table: String {
        (allCases.map { "  \($0.rawValue)  \($0.meaning)" } + ["  64 the command line is wrong (an unknown option, a missing value)"])
            .joined(separator: "\n")
    }

    /// Prints `cloister: message` on standard error and exits with this status.
    func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data("cloister: \(message)\n".utf8))
        exit(rawValue)
    }

    /// Exits with the status and message that fit `error`.
    static func fail(_ error: CloisterClientError, session: ClientSession?) -> Never {
        switch (error.status, error.code) {
        case (401, _):
            let again = session.map { "cloister login --user \($0.user)" } ?? "cloister login"
            notLoggedIn.fail("\(error.message): log in again (\(again))")
        case (0, "stuck"): yourTurn.fail(error.message)
        case (0, "wait_timeout"): waitTimeout.fail(error.message)
        case (0, _): unreachable.fail(error.message)
        default: CLIExit.error.fail("\(error.message) (\(error.status) \(error.code))")
        }
    }

    /// One line for any error of a client call.
    static func message(of error: any Error) -> String {
        if let client = error as? CloisterClientError { return client.status == 0 ? client.message : "\(client.message) (\(client.status) \(client.code))" }
        return "\(error)"
    }
}
