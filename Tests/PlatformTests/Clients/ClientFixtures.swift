import CloisterAPI
import Foundation
import ProtectedFiles

/// The session file `cloister login` keeps, written by tests to stage a session (a server gone
/// away, a token that no longer works).
struct ClientSessionFile: Codable {
    var url: String
    var user: String
    var token: String
    var expiresAt: Date

    static func read(from config: String) throws -> ClientSessionFile {
        try WireFormat.decoder().decode(ClientSessionFile.self, from: Data(contentsOf: URL(fileURLWithPath: config + "/cloister/session.json")))
    }

    func write(into config: String) throws {
        try FileManager.default.createDirectory(atPath: config + "/cloister", withIntermediateDirectories: true)
        try WireFormat.encoder().encode(self).write(to: URL(fileURLWithPath: config + "/cloister/session.json"))
    }
}

/// Text sealed with cloister-file-256 under a hex key, as a `data:` URL.
enum SealedData {
    static func url(_ text: String, key: String) throws -> String {
        try "data:application/octet-stream;base64," + Data(sealed(text, key: key).bytes).base64EncodedString()
    }

    static func sealed(_ text: String, key: String, scheme: Scheme = .cloisterFile256, iv: String? = nil) throws -> (bytes: [UInt8], tag: [UInt8]) {
        let sink = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: scheme, key: try Hex.decode(key), iv: try iv.map { try Hex.decode($0) }, output: sink)
        try writer.write(Array(text.utf8))
        let tag = try writer.finish()
        return (sink.bytes, tag)
    }
}
