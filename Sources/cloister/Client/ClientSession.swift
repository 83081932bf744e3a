import ArgumentParser
import AsyncHTTPClient
import CloisterAPI
import CloisterClient
import Foundation

/// The session `cloister login` keeps in the user's config folder
/// (`$XDG_CONFIG_HOME/cloister/session.json`, else `~/.config/cloister/session.json`, mode 0600).
struct ClientSession: Codable {
    var url: String
    var user: String
    var token: String
    var expiresAt: Date
    /// A PEM file of the certificate(s) to trust for an HTTPS server (a self-signed one).
    var caFile: String?

    /// The server `cloister login` talks to when given no `--url` and no session names one.
    static let defaultURL = "http://127.0.0.1:8470"

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/cloister/session.json"
    }

    /// The kept session, if there is one.
    static func saved() -> ClientSession? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? WireFormat.decoder().decode(ClientSession.self, from: data)
    }

    /// The kept session, or exit 2 with how to log in.
    static func load() throws -> ClientSession {
        guard let session = saved() else {
            CLIExit.notLoggedIn.fail("not logged in: run `cloister login --url URL --user ID` first")
        }
        return session
    }

    func save() throws {
        let folder = (Self.path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try WireFormat.encoder().encode(self)
        let partial = Self.path + ".partial"
        guard FileManager.default.createFile(atPath: partial, contents: data, attributes: [.posixPermissions: 0o600]),
            rename(partial, Self.path) == 0
        else { CLIExit.error.fail("could not write \(Self.path)") }
    }

    /// Runs `body` with a client of `url` that trusts the certificates of `caFile` (PEM) besides
    /// the system's when given, and shuts that client down afterwards.
    static func withClient<T>(url: String, caFile: String?, _ body: (CloisterClient) async throws -> T) async throws -> T {
        guard let caFile else { return try await body(CloisterClient(baseURL: url)) }
        let (client, http) = try CloisterClient.trusting(caFile: caFile, baseURL: url)
        do {
            let value = try await body(client)
            try await http.shutdown()
            return value
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// Runs a client call with the kept session: prints its answer as JSON, or one line saying what
/// went wrong and what to do, and exits with the status of ``CLIExit``.
func perform<T: Encodable>(_ body: (CloisterClient, ClientSession) async throws -> T) async throws {
    let session = try ClientSession.load()
    let value: T
    do {
        value = try await ClientSession.withClient(url: session.url, caFile: session.caFile) { client in
            try await body(client.with(token: session.token), session)
        }
    } catch let error as CloisterClientError {
        CLIExit.fail(error, session: session)
    }
    printJSON(value)
}

/// `perform` for calls that need only the client.
func perform<T: Encodable>(_ body: (CloisterClient) async throws -> T) async throws {
    try await perform { client, _ in try await body(client) }
}

/// Prints a value as the API's pretty JSON.
func printJSON<T: Encodable>(_ value: T) {
    let encoder = WireFormat.encoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    guard let data = try? encoder.encode(value) else { CLIExit.error.fail("could not print the answer") }
    print(String(decoding: data, as: UTF8.self))
}

/// An answer with nothing to show.
struct Done: Encodable { let done = true }

/// Splits `name=value`.
func pair(_ text: String, option: String) throws -> (String, String) {
    guard let equals = text.firstIndex(of: "=") else { throw ValidationError("\(option) takes NAME=VALUE, got \(text)") }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
}

/// `cloister login`.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in to a platform; the token is kept in the user's config folder.",
        discussion: """
            The password comes from CLOISTER_PASSWORD, else from a prompt that does not echo when \
            standard input is a terminal, else from the first line of standard input \
            (--password-stdin: always standard input). Without --url, login goes to the server of \
            the kept session (and trusts its --ca-file), else to \(ClientSession.defaultURL).
            """)

    @Option(name: .long, help: ArgumentHelp("The server (default: the kept session's, else \(ClientSession.defaultURL)).", valueName: "url"))
    var url: String?

    @Option(name: .long, help: "The user id.")
    var user: String

    @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of standard input, even when CLOISTER_PASSWORD is set.")
    var passwordStdin = false

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("A PEM certificate to trust for an HTTPS server (its self-signed certificate).", valueName: "file"))
    var caFile: String?

    func run() async throws {
        let saved = ClientSession.saved()
        let server = url ?? saved?.url ?? ClientSession.defaultURL
        let caPath = caFile.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            ?? (url == nil || url == saved?.url ? saved?.caFile : nil)
        let password = try Passwords.read(
            environment: passwordStdin ? nil : "CLOISTER_PASSWORD", prompt: "Password for \(user) at \(server): ")
        do {
            let answer = try await ClientSession.withClient(url: server, caFile: caPath) { try await $0.login(id: user, password: password) }
            try ClientSession(url: server, user: user, token: answer.token, expiresAt: answer.expiresAt, caFile: caPath).save()
            print("logged in to \(server) as \(user) (\(answer.user.role)) until \(answer.expiresAt)")
        } catch let error as CloisterClientError {
            // A refused login is the answer to this command, not an expired session.
            if error.status == 401 { CLIExit.error.fail(error.message) }
            CLIExit.fail(error, session: nil)
        }
    }
}

/// `cloister logout`.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "End the kept token on the server and forget it.")
    func run() async throws {
        guard let session = ClientSession.saved() else {
            print("not logged in")
            return
        }
        var ended = true
        do {
            try await ClientSession.withClient(url: session.url, caFile: session.caFile) { client in
                try await client.with(token: session.token).logout()
            }
        } catch let error as CloisterClientError where error.status == 401 {
            // Expired or revoked already: nothing left to end.
        } catch {
            ended = false
            FileHandle.standardError.write(Data("cloister: could not end the token on \(session.url): \(CLIExit.message(of: error))\n".utf8))
        }
        try? FileManager.default.removeItem(atPath: ClientSession.path)
        print(ended ? "logged out" : "forgot the token (the server could not be told; it stays valid until it expires)")
    }
}

/// `cloister audit`: read the log (admins), its head, or check its hash chain in the database.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit", abstract: "Read the audit log (admins), show its head, or verify its hash chain.",
        subcommands: [List.self, Head.self, Verify.self], defaultSubcommand: List.self)

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Read the audit log, newest first (admins).")
        @Option(help: "Only entries of this user.") var user: String?
        @Option(help: "Only entries on this object (a task, function, file or user id).") var object: String?
        @Option(help: "How many entries (at most 10000).") var limit: Int = 100
        func run() async throws {
            try await perform { try await $0.audit(user: user, object: object, limit: limit) }
        }
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "head", abstract: "Show the newest audit entry's and receipt's hashes.")
        func run() async throws { try await perform { try await $0.auditHead() } }
    }
}
