import CloisterTestSupport
import Foundation
import Testing
@testable import ProtectedFiles

/// `cloister encrypt`, `decrypt` and `keygen`, run as the real executable.
@Suite struct ProtectedFileCommandLineTests {
    /// The `cloister` executable built beside the test bundle.
    static var executable: String { CloisterExecutable.url.path }

    /// The config folder of this test's runs (`XDG_CONFIG_HOME`): its own journal of aes-gcm pairs.
    let configFolder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-cli-config-\(UUID().uuidString)").path

    /// Runs the tool; stdout and stderr apart, stderr a pipe (so no progress bar).
    func cloister(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ProtectedFileCommandLineTests.executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": configFolder]) { _, new in new }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
    }

    @Test func encryptDecryptKeygenAndFailures() throws {
        #expect(FileManager.default.isExecutableFile(atPath: ProtectedFileCommandLineTests.executable))
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let data = pattern(2 * 1024 * 1024 + 17)
        try Data(data).write(to: URL(fileURLWithPath: path("plain")))

        for scheme in ["cloister-file-128", "aes-gcm-256"] {
            let keygen = try cloister(["keygen", "--scheme", scheme])
            #expect(keygen.status == 0)
            try keygen.stdout.write(toFile: path("key"), atomically: true, encoding: .utf8)
            #expect(keygen.stdout.contains("iv: ") == scheme.hasPrefix("aes-gcm"))

            let enc = try cloister(["encrypt", "--scheme", scheme, "--key-file", path("key"), "-i", path("plain"), "-o", path("sealed"), "--print-tag"])
            #expect(enc.status == 0, "\(enc.stderr)")
            #expect(enc.stderr.isEmpty, "no progress bar when stderr is piped")
            let tag = enc.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(tag.count == (scheme.hasPrefix("aes") ? 32 : 64))

            let dec = try cloister(["decrypt", "--scheme", scheme, "--key-file", path("key"), "-i", path("sealed"), "-o", path("back"), "--print-tag"])
            #expect(dec.status == 0, "\(dec.stderr)")
            #expect(dec.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == tag)
            #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("back")))) == data)

            // Tampered: exit 1, one line, no output file.
            var sealed = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("sealed"))))
            sealed[sealed.count / 2] ^= 0x10
            try Data(sealed).write(to: URL(fileURLWithPath: path("sealed")))
            let bad = try cloister(["decrypt", "--scheme", scheme, "--key-file", path("key"), "-i", path("sealed"), "-o", path("bad")])
            #expect(bad.status == 1)
            #expect(bad.stderr.hasPrefix("cloister: authentication failed"), "\(bad.stderr)")
            #expect(bad.stderr.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: path("bad")))
            for name in ["key", "sealed", "back"] { try FileManager.default.removeItem(atPath: path(name)) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["plain"])

        // Hex key and IV on the command line; bad sizes and names are one-line errors.
        let key = "000102030405060708090a0b0c0d0e0f", iv = "cafebabefacedbaddecaf888"
        #expect(try cloister(["encrypt", "--scheme", "aes-gcm-128", "--key", key, "--iv", iv, "-i", path("plain"), "-o", path("g")]).status == 0)
        let box = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path("g"))))
        #expect(box == (try seal(data, scheme: .aesGCM128, key: hex(key), iv: hex(iv)).stored))
        let shortIV = try cloister(["decrypt", "--scheme", "aes-gcm-128", "--key", key, "--iv", "0011", "-i", path("g"), "-o", path("x")])
        #expect(shortIV.status == 1 && shortIV.stderr.contains("bad IV size"))
        let wrongSize = try cloister(["decrypt", "--scheme", "aes-gcm-256", "--key", key, "--iv", iv, "-i", path("g"), "-o", path("x")])
        #expect(wrongSize.status == 1 && wrongSize.stderr.contains("bad key size"))
        let unknown = try cloister(["encrypt", "--scheme", "rot13", "--key", key, "-i", path("plain"), "-o", path("x")])
        #expect(unknown.status == 1 && unknown.stderr.contains("cloister-file-128"))
        let raw = try cloister(["encrypt", "--scheme", "raw", "-i", path("plain"), "-o", path("x")])
        #expect(raw.status == 1 && raw.stderr.contains("inputs only"))
        #expect(!FileManager.default.fileExists(atPath: path("x")))
    }

    /// Runs `command` in /bin/sh with umask 022 (the usual one), `cloister` as $0.
    func shell(_ command: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "umask 022; " + command, ProtectedFileCommandLineTests.executable]
        process.environment = ProcessInfo.processInfo.environment.merging(["XDG_CONFIG_HOME": configFolder]) { _, new in new }
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static func mode(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_mode & 0o777) : -1
    }

    @Test("keygen > file and keygen --out write keys readable by their owner only (issue 20, item 5)")
    func keygenWritesPrivateFiles() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let redirected = directory.appendingPathComponent("redirected.key").path
        #expect(try shell(#""$0" keygen --scheme cloister-file-256 > "# + redirected) == 0)
        #expect(Self.mode(redirected) == 0o600)
        #expect((try String(contentsOfFile: redirected, encoding: .utf8)).hasPrefix("key: "))
        let out = directory.appendingPathComponent("out.key").path
        #expect(try cloister(["keygen", "--scheme", "aes-gcm-128", "--out", out]).status == 0)
        #expect(Self.mode(out) == 0o600)
        #expect((try String(contentsOfFile: out, encoding: .utf8)).contains("iv: "))
        // --out never replaces a key.
        let again = try cloister(["keygen", "--scheme", "aes-gcm-128", "--out", out])
        #expect(again.status == 1 && again.stderr.hasPrefix("cloister: cannot create"))
    }

    @Test("an aes-gcm key and IV encrypt one file: a second encryption under the pair is refused and writes nothing (issue 20, item 14)")
    func aesGCMPairEncryptsOnce() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        try Data("first plaintext".utf8).write(to: URL(fileURLWithPath: path("a")))
        try Data("other plaintext".utf8).write(to: URL(fileURLWithPath: path("b")))
        #expect(try cloister(["keygen", "--scheme", "aes-gcm-256", "--out", path("key")]).status == 0)
        let first = try cloister(["encrypt", "--scheme", "aes-gcm-256", "--key-file", path("key"), "-i", path("a"), "-o", path("a.enc")])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try cloister(["encrypt", "--scheme", "aes-gcm-256", "--key-file", path("key"), "-i", path("b"), "-o", path("b.enc")])
        #expect(second.status == 1)
        #expect(second.stderr.contains("encrypted a file before"), "\(second.stderr)")
        #expect(!FileManager.default.fileExists(atPath: path("b.enc")))
        // The same pair given on the command line is the same pair.
        let text = try String(contentsOfFile: path("key"), encoding: .utf8)
        let key = text.split(separator: "\n").first { $0.hasPrefix("key: ") }!.dropFirst(5)
        let iv = text.split(separator: "\n").first { $0.hasPrefix("iv: ") }!.dropFirst(4)
        #expect(try cloister(["encrypt", "--scheme", "aes-gcm-256", "--key", String(key), "--iv", String(iv), "-i", path("b"), "-o", path("b.enc")]).status == 1)
        // A fresh IV for the same key is a fresh pair; decryption is never refused.
        let fresh = Hex.encode((0..<12).map { _ in UInt8.random(in: 0...255) })
        #expect(try cloister(["encrypt", "--scheme", "aes-gcm-256", "--key", String(key), "--iv", fresh, "-i", path("b"), "-o", path("b.enc")]).status == 0)
        #expect(try cloister(["decrypt", "--scheme", "aes-gcm-256", "--key-file", path("key"), "-i", path("a.enc"), "-o", path("a.out")]).status == 0)
        #expect(try String(contentsOfFile: path("a.out"), encoding: .utf8) == "first plaintext")
        // The journal is private, and holds hashes, not keys.
        let journal = configFolder + "/cloister/aes-gcm-pairs"
        #expect(Self.mode(journal) == 0o600)
        #expect(!(try String(contentsOfFile: journal, encoding: .utf8)).contains(String(key)))
    }
}
