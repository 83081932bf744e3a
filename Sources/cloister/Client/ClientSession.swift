import ArgumentParser
import AsyncHTTPClient
import CloisterAPI
import CloisterClient
import Foundation
import NIOSSL

/// The session `cloister login` keeps in the user's config folder
/// (`$XDG_CONFIG_HOME/cloister/session.json`, else `~/.config/cloister/session.json`, mode 0600).
struct ClientSession: Codable {
    var url: String
    var user: String
    var token: String
    var expiresAt: Date
    /// A PEM file of the certificate(s) to trust for an HTTPS server (a self-signed one).
    var caFile: String?

    static var path: String {
        let environment = ProcessInfo.processInfo.environment
        let base = environment["XDG_CONFIG_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.config"
        return base + "/cloister/session.json"
    }

    static func load() throws -> ClientSession {
        guard let data = FileManager.default.contents(atPath: path),
            let session = try? WireFormat.decoder().decode(ClientSession.self, from: data)
        else {
            FileHandle.standardError.write(Data("cloister: not logged in: run `cloister login --url URL --user ID` first\n".utf8))
            throw ExitCode(1)
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
        else { throw ValidationError("could not write \(Self.path)") }
    }

    /// Runs `body` with a client of `url` that trusts the certificates of `caFile` (PEM) besides
    /// the system's when given, and shuts that client down afterwards.
    static func withClient<T>(url: String, caFile: String?, _ body: (CloisterClient) async throws -> T) async throws -> T {
        guard let caFile else { return try await body(CloisterClient(baseURL: url)) }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(caFile))]
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
        do {
            let value = try await body(CloisterClient(baseURL: url, httpClient: http))
            try await http.shutdown()
            return value
        } catch {
            try? await http.shutdown()
            throw error
        }
    }
}

/// Runs a client call: prints its answer as JSON, or the API's error and exits 1.
func perform<T: Encodable>(_ body: (CloisterClient) async throws -> T) async throws {
    let session = try ClientSession.load()
    do {
        let value = try await ClientSession.withClient(url: session.url, caFile: session.caFile) { client in
            try await body(client.with(token: session.token))
        }
        let encoder = WireFormat.encoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    } catch let error as CloisterClientError {
        FileHandle.standardError.write(Data("cloister: \(error)\n".utf8))
        if error.status == 401 { FileHandle.standardError.write(Data("cloister: log in again with `cloister login`\n".utf8)) }
        throw ExitCode(1)
    }
}

/// An answer with nothing to show.
struct Done: Encodable { let done = true }

/// Splits `name=value`.
func pair(_ text: String, option: String) throws -> (String, String) {
    guard let equals = text.firstIndex(of: "=") else { throw ValidationError("\(option) takes NAME=VALUE, got \(text)") }
    return (String(text[..<equals]), String(text[text.index(after: equals)...]))
}

/// A password from standard input (its first line), for options that take secrets.
func readPasswordFromStandardInput() throws -> String {
    guard let line = readLine(strippingNewline: true), !line.isEmpty else { throw ValidationError("no password on standard input") }
    return line
}

/// `cloister login`.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login", abstract: "Log in to a platform; the token is kept in the user's config folder.")

    @Option(name: .long, help: "The server (http://127.0.0.1:8470).")
    var url: String = "http://127.0.0.1:8470"

    @Option(name: .long, help: "The user id.")
    var user: String

    @Flag(name: .customLong("password-stdin"), help: "Read the password from standard input (default: CLOISTER_PASSWORD, else standard input).")
    var passwordStdin = false

    @Option(name: .customLong("ca-file"), help: "A PEM certificate to trust for an HTTPS server (its self-signed certificate).")
    var caFile: String?

    func run() async throws {
        let password: String
        if !passwordStdin, let fromEnvironment = ProcessInfo.processInfo.environment["CLOISTER_PASSWORD"] {
            password = fromEnvironment
        } else {
            password = try readPasswordFromStandardInput()
        }
        do {
            let caPath = caFile.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
            let answer = try await ClientSession.withClient(url: url, caFile: caPath) { try await $0.login(id: user, password: password) }
            try ClientSession(url: url, user: user, token: answer.token, expiresAt: answer.expiresAt, caFile: caPath).save()
            print("logged in to \(url) as \(user) (\(answer.user.role)) until \(answer.expiresAt)")
        } catch let error as CloisterClientError {
            FileHandle.standardError.write(Data("cloister: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// `cloister logout`.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout", abstract: "End the kept token on the server and forget it.")
    func run() async throws {
        guard let data = FileManager.default.contents(atPath: ClientSession.path),
            let session = try? WireFormat.decoder().decode(ClientSession.self, from: data)
        else {
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
            FileHandle.standardError.write(Data("cloister: could not end the token on \(session.url): \(error)\n".utf8))
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
        @Option(help: "How many entries.") var limit: Int = 100
        func run() async throws {
            try await perform { try await $0.audit(user: user, object: object, limit: limit) }
        }
    }

    struct Head: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "head", abstract: "Show the newest audit entry's and receipt's hashes.")
        func run() async throws { try await perform { try await $0.auditHead() } }
    }
}
