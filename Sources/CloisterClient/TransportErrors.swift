import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// The HTTP client every `CloisterClient` uses unless given one: connections fail fast.
///
/// AsyncHTTPClient's shared client retries a refused connection with a backoff until the
/// request's deadline passes, so a command run while no server is up hung for the whole deadline
/// and then printed a NIO error. This one tries each connection once, gives it
/// ``CloisterClient/connectTimeout``, and leaves the rest of the deadline to the request. A
/// refused connection fails at once; the timeout bounds a host that does not answer, and also
/// how long a request may wait for a free connection of the pool (AsyncHTTPClient uses the same
/// deadline for both), so the pool opens up to 64 connections a host rather than 8: concurrent
/// calls of one client do not queue behind each other.
enum DefaultHTTPClient {
    static let shared: HTTPClient = make()

    /// A client with Cloister's connection settings and `tls` (nil: the system's trust roots).
    static func make(tls: TLSConfiguration? = nil) -> HTTPClient {
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout.connect = CloisterClient.connectTimeout
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 64
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

extension CloisterClient {
    /// How long the client waits for a TCP (and TLS) connection before it gives up.
    public static let connectTimeout: TimeAmount = .seconds(5)

    /// A client of `baseURL` that trusts the PEM certificates in `caFile` besides the system's
    /// roots (for a server with a self-signed certificate). Shut the returned HTTP client down
    /// when done.
    public static func trusting(caFile: String, baseURL: String) throws(CloisterClientError) -> (CloisterClient, HTTPClient) {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(caFile)
        } catch {
            throw CloisterClientError(
                status: 0, code: "tls", message: "cannot read the certificate file \(caFile): give a PEM file (the server's --tls-cert)")
        }
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.additionalTrustRoots = [.certificates(certificates)]
        let http = DefaultHTTPClient.make(tls: tls)
        return (CloisterClient(baseURL: baseURL, httpClient: http), http)
    }
}

/// Turns what AsyncHTTPClient, NIO and BoringSSL throw into one sentence that says what happened
/// and what to do, as a ``CloisterClientError`` of status 0.
enum TransportErrors {
    static func describe(_ error: any Error, url: String, timeout: TimeAmount) -> CloisterClientError {
        let server = serverName(url)
        func make(_ code: String, _ message: String) -> CloisterClientError {
            CloisterClientError(status: 0, code: code, message: message)
        }
        if let refused = errno(in: error) {
            switch refused {
            case ECONNREFUSED:
                return make("unreachable", "no Cloister server at \(server): connection refused (is `cloister serve` running there? check --url)")
            case ETIMEDOUT:
                return make("unreachable", "no answer from \(server) within \(seconds(CloisterClient.connectTimeout)) s: check --url and the network")
            case EHOSTUNREACH, ENETUNREACH:
                return make("unreachable", "cannot reach \(server): no route to the host (check --url and the network)")
            case ECONNRESET, EPIPE:
                return make("unreachable", "\(server) closed the connection: if it serves HTTPS, use an https:// URL")
            default:
                return make("unreachable", "cannot connect to \(server): \(String(cString: strerror(refused)))")
            }
        }
        if let connection = error as? NIOConnectionError, connection.dnsAError != nil || connection.dnsAAAAError != nil {
            return make("unreachable", "cannot resolve the host of \(server): check --url")
        }
        if let ssl = error as? NIOSSLError {
            let text = "\(ssl)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate verify failed") {
                return make("tls", "the certificate of \(server) is not trusted: give its certificate with --ca-file (cloister login --ca-file server.pem)")
            }
            if text.contains("WRONG_VERSION_NUMBER") || text.contains("wrong version number") {
                return make("tls", "\(server) does not speak TLS: use an http:// URL")
            }
            return make("tls", "the TLS handshake with \(server) failed: \(ssl)")
        }
        if error is NIOSSLExtraError {
            return make("tls", "the certificate of \(server) is not for this host name: connect with the name (or address) it was issued for")
        }
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout:
                return make("unreachable", "no answer from \(server) within \(seconds(CloisterClient.connectTimeout)) s: check --url and the network")
            case .tlsHandshakeTimeout:
                return make("tls", "\(server) did not complete a TLS handshake: if it serves plain HTTP, use an http:// URL")
            case .remoteConnectionClosed:
                return make("unreachable", "\(server) closed the connection without answering: if it serves HTTPS, use an https:// URL")
            case .getConnectionFromPoolTimeout:
                return make("timeout", "no connection to \(server) became free within \(seconds(CloisterClient.connectTimeout)) s: the client has too many calls under way at once")
            case .deadlineExceeded, .readTimeout:
                return make("timeout", "\(server) did not answer within \(seconds(timeout)) s")
            case .invalidURL, .emptyHost, .emptyScheme:
                return make("bad_url", "\(url) is not a server URL: give http://HOST:PORT or https://HOST:PORT")
            default:
                break
            }
        }
        return make("transport", "could not talk to \(server): \(error)")
    }

    /// The errno of a failed connection, wherever NIO put it.
    private static func errno(in error: any Error) -> Int32? {
        if let io = error as? IOError { return io.errnoCode }
        if let connection = error as? NIOConnectionError {
            for failure in connection.connectionErrors {
                if let io = failure.error as? IOError { return io.errnoCode }
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel { return ETIMEDOUT }
        return nil
    }

    /// `scheme://host:port` of a URL, as the user wrote it.
    private static func serverName(_ url: String) -> String {
        guard let components = URLComponents(string: url), let scheme = components.scheme, let host = components.host else { return url }
        let port = components.port.map { ":\($0)" } ?? ""
        return "\(scheme)://\(host)\(port)"
    }

    private static func seconds(_ amount: TimeAmount) -> String {
        let value = Double(amount.nanoseconds) / 1e9
        return value == value.rounded() ? String(Int(value)) : String(value)
    }
}
