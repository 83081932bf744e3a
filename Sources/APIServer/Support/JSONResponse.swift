import CloisterAPI
import Foundation
import Hummingbird
import NIOCore

/// JSON responses in the API's wire format.
enum JSONResponse {
    static func make(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try WireFormat.encoder().encode(value)
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func error(_ code: APIErrorCode, _ message: String) -> Response {
        let data = (try? WireFormat.encoder().encode(APIErrorBody(code: code, message: message))) ?? Data()
        return Response(
            status: .init(code: code.status), headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func noContent() -> Response { Response(status: .noContent) }
}
