import Hummingbird
import NIOCore

/// The approval page at `/` (Web/: `index.html`, `app.js`, `app.css`), compiled into the binary
/// so that a server needs no files beside it and no build step. The page calls the API of the
/// server that serves it and nothing else, which its Content-Security-Policy enforces.
struct WebRoutes {
    /// One file of the page.
    struct Asset: Sendable {
        let bytes: [UInt8]
        let contentType: String
    }

    static let assets: [String: Asset] = [
        "/": Asset(bytes: PackageResources.index_html, contentType: "text/html; charset=utf-8"),
        "/app.js": Asset(bytes: PackageResources.app_js, contentType: "text/javascript; charset=utf-8"),
        "/app.css": Asset(bytes: PackageResources.app_css, contentType: "text/css; charset=utf-8"),
    ]

    /// Scripts, styles and calls from this origin only; no frames, no plug-ins, no referrer.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy:
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        .xContentTypeOptions: "nosniff",
        .init("Referrer-Policy")!: "no-referrer",
        .init("X-Frame-Options")!: "DENY",
        .cacheControl: "no-cache",
    ]

    func add(to router: Router<APIRequestContext>) {
        for (path, asset) in Self.assets {
            router.get(RouterPath(path)) { _, _ in
                var headers = Self.securityHeaders
                headers[.contentType] = asset.contentType
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: asset.bytes)))
            }
        }
    }
}
