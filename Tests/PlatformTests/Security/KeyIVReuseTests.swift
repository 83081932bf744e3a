import CloisterAPI
import CloisterClient
import Foundation
import ProtectedFiles
import Testing
@testable import Platform

/// Issue 20, item 14 (the platform's side): an aes-gcm output is encrypted under the (key, IV) its
/// owner registered, a format that cannot carry a fresh nonce; the platform refuses any pair it has
/// seen before, at registration and again before it encrypts.
@Suite("Security: AES-GCM key and IV reuse")
struct KeyIVReuseTests {
    static func hex(_ count: Int) -> String { Hex.encode((0..<count).map { _ in UInt8.random(in: 0...255) }) }

    /// `text` sealed with aes-gcm under (key, iv), as a `data:` URL.
    static func sealed(_ text: String, key: String, iv: String) throws -> String {
        let keyBytes = try Hex.decode(key)
        let sealed = try SecurityFixtures.encrypted(
            Array(text.utf8), scheme: keyBytes.count == 16 ? .aesGCM128 : .aesGCM256, key: keyBytes, iv: try Hex.decode(iv))
        return "data:application/octet-stream;base64," + Data(sealed.bytes).base64EncodedString()
    }

    @Test("a (key, IV) pair of an input or another output is refused for an output; the same input file may be registered twice")
    func registrationRefusesReusedPairs() async throws {
        try await TestServer.with(workers: 0) { server in
            let (_, _, user) = try await server.client.standardUsers()
            let key = Self.hex(16), iv = Self.hex(12)
            _ = try await user.registerOutput(RegisterOutputRequest(scheme: "aes-gcm-128", key: key, iv: iv))
            let second = try await user.send(.POST, "/v1/outputs", body: try WireFormat.encoder().encode(RegisterOutputRequest(scheme: "aes-gcm-128", key: key, iv: iv)))
            #expect(second.status == 400)
            #expect(String(decoding: second.body, as: UTF8.self).contains("'iv'"))
            let asInput = try await user.send(.POST, "/v1/inputs", body: try WireFormat.encoder().encode(
                RegisterInputRequest(url: try Self.sealed("x", key: key, iv: iv), scheme: "aes-gcm-128", key: key, iv: iv)))
            #expect(asInput.status == 400)
            #expect(String(decoding: asInput.body, as: UTF8.self).contains("'iv'"))
            // An input's pair: registering the same file again is fine, an output under it is not.
            let inputKey = Self.hex(32), inputIV = Self.hex(12)
            let ciphertext = try Self.sealed("ciphertext", key: inputKey, iv: inputIV)
            for _ in 0..<2 {
                _ = try await user.registerInput(RegisterInputRequest(url: ciphertext, scheme: "aes-gcm-256", key: inputKey, iv: inputIV))
            }
            let overInput = try await user.send(.POST, "/v1/outputs", body: try WireFormat.encoder().encode(RegisterOutputRequest(scheme: "aes-gcm-256", key: inputKey, iv: inputIV)))
            #expect(overInput.status == 400)
            // The same key with a fresh IV is a fresh pair.
            _ = try await user.registerOutput(RegisterOutputRequest(scheme: "aes-gcm-128", key: key, iv: Self.hex(12)))
        }
    }

    @Test("two outputs under one pair from before the fix: the first is written, the second is refused before anything is encrypted")
    func workerRefusesAPairTwice() async throws {
        try await TestServer.with(workers: 1) { server in
            let (_, owner, user) = try await server.client.standardUsers()
            let key = Self.hex(16), iv = Self.hex(12)
            let first = try await user.registerOutput(RegisterOutputRequest(scheme: "aes-gcm-128", key: key, iv: iv))
            // What main allowed: a second output under the same pair (written here behind the API's back).
            let keys = try await DataKeys.open(database: server.platform.database, kek: LocalKeyEncryptionKey.load(path: server.folder + "/secrets/kek.key"))
            let twinId = "output-twin"
            let twin = FileRecord(
                id: twinId, kind: .output, url: nil, scheme: "aes-gcm-128", key: try await keys.wrap(hex: key, for: twinId), iv: iv, tag: nil,
                owners: ["mgr"], createdBy: "mgr", createdAt: Date())
            try await server.platform.database.write("test") { transaction in
                _ = try await transaction.files.insert(twin)
                try await transaction.sql.raw("INSERT INTO file_owners (file_id, user_id) VALUES ('output-twin', 'mgr')").run()
            }
            let function = try await SecurityFixtures.function(owner, module: try SecurityFixtures.noop(), outputs: ["result"])
            let written = try await SecurityFixtures.run(user, userId: "mgr", function, outputs: ["result": first.id])
            #expect(written.state == .finished, "\(written.reason ?? "")")
            let refused = try await SecurityFixtures.run(user, userId: "mgr", function, outputs: ["result": twinId])
            #expect(refused.state == .failed)
            #expect(refused.reason == "output result: its key and IV were used for another file on this platform; register the output again with a fresh IV")
            #expect(try await user.getOutput(twinId).tag == nil)
            #expect(try await user.send(.GET, "/v1/outputs/\(twinId)/content").status == 409)
        }
    }
}
