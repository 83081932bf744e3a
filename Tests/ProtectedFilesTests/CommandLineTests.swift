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
}
