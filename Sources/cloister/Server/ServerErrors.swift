import Foundation
import NIOCore
import NIOSSL
import Platform

/// One sentence for what stops `serve` or `worker` from starting, saying what to do, instead of
/// the library's error (`bind(descriptor:ptr:bytes:): Address already in use (errno: 98)`).
enum ServerErrors {
    static func describe(_ error: any Error, host: String? = nil, port: Int? = nil, tlsCertificate: String? = nil, tlsKey: String? = nil) -> String {
        let place = host.map { "\($0):\(port.map(String.init) ?? "?")" } ?? "that address"
        if let io = error as? IOError {
            switch io.errnoCode {
            case EADDRINUSE:
                return "\(place) is in use (another `cloister serve`?): stop that server or choose another --port (--port 0 picks a free one)"
            case EADDRNOTAVAIL:
                return "\(host ?? "the --host") is not an address of this machine: give --host 127.0.0.1 (or one of its addresses)"
            case EACCES:
                return "not allowed to listen on \(place) (ports below 1024 need privileges): choose --port 1024 or above"
            default:
                return "cannot listen on \(place): \(String(cString: strerror(io.errnoCode)))"
            }
        }
        if let ssl = error as? NIOSSLError {
            switch ssl {
            case .failedToLoadCertificate, .noSuchFilesystemObject:
                return "cannot load the certificate \(tlsCertificate ?? "") (--tls-cert): give a PEM certificate chain that exists"
            case .failedToLoadPrivateKey:
                return "cannot load the private key \(tlsKey ?? "") (--tls-key): give the PEM private key of --tls-cert"
            default:
                return "TLS cannot be set up: \(ssl)"
            }
        }
        if let setup = error as? PlatformSetupError { return setup.description }
        if let file = error as? CocoaError {
            let path = file.filePath ?? (file.userInfo[NSFilePathErrorKey] as? String) ?? ""
            return "cannot use \(path.isEmpty ? "a file of the data folder" : path): \(file.localizedDescription)"
        }
        let text = "\(error)"
        if text.contains("Address already in use") {
            return "\(place) is in use (another `cloister serve`?): stop that server or choose another --port (--port 0 picks a free one)"
        }
        return text
    }
}
