import CloisterAPI
import CloisterClient
import Foundation
import Testing

/// JSON exactly as RFC 8259 has it, with no key twice in one object: what docs/api.md promises
/// of every request body, checked by the parser itself and through the API.
@Suite("strict JSON: trailing commas and duplicate keys are refused, naming where")
struct StrictJSONTests {
    static func failure(_ text: String) -> StrictJSON.Failure? {
        do {
            try StrictJSON.validate(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test(
        "JSON texts are accepted",
        arguments: [
            #"{}"#, #"[]"#, #"0"#, #"-0.5e+10"#, #""\u00e9\ud83d\ude00 \"q\" \\ \/""#, #"{"a":{"a":[{"a":1},{"a":2}]}}"#,
            " \n\t{ \"id\" : \"admin\" , \"password\" : \"p w\" } \r\n", #"[true,false,null,"x",1E3,[[]],{}]"#,
        ])
    func accepted(text: String) {
        #expect(Self.failure(text) == nil, "\(text)")
    }

    @Test(
        "what Foundation accepts but JSON is not, and keys given twice, are refused with the place",
        arguments: [
            ("{\"a\":1,}", "trailing comma before '}' (line 1, column 8)", nil),
            ("[1,\n2,\n]", "trailing comma before ']' (line 3, column 1)", nil),
            (#"{"id":"admin","password":"x","id":"bob"}"#, #"key "id" is given twice in one object (line 1, column 30)"#, "id"),
            (#"{"inputs":[{"name":"a"},{"name":"b","name":"c"}]}"#, #"key "name" is given twice"#, "inputs[1].name"),
            (#"{"id":1,"\u0069d":2}"#, #"key "id" is given twice"#, "id"),
            ("{'id':1}", "expected a key in quotes, found '''", nil),
            ("[01]", "a number with a leading zero (line 1, column 2)", nil), ("[NaN]", "expected a value, found 'N'", nil),
            ("[1] // note", "unexpected text after the JSON value", nil),
            ("{\"a\":\"tab\there\"}", #"a control character inside a string (write it as \u0009) (line 1, column 10)"#, nil),
            ("", "expected a value, found the end of the text", nil),
        ] as [(String, String, String?)])
    func refused(text: String, message: String, field: String?) throws {
        let failure = try #require(Self.failure(text), "\(text) was accepted")
        #expect(failure.description.contains(message), "\(failure)")
        #expect(failure.field == field)
    }

    @Test("nesting deeper than 256 levels is refused, without exhausting the stack")
    func depth() {
        #expect(Self.failure(String(repeating: "[", count: 256) + String(repeating: "]", count: 256)) == nil)
        #expect(Self.failure(String(repeating: "[", count: 100_000))?.message == "nested deeper than 256 levels")
    }

    @Test("through the API: a login with the id twice is refused (no token for either user), a trailing comma is refused, nothing is registered")
    func api() async throws {
        try await TestServer.with(workers: 0) { server in
            let (admin, _, _) = try await server.client.standardUsers()
            _ = try await admin.registerUser(RegisterUserRequest(id: "bob", password: "password-1", role: "DataOwner-x"))
            let twice = Data(#"{"id":"admin","password":"\#(TestServer.adminPassword)","id":"bob"}"#.utf8)
            let (status, body) = try await server.client.send(.POST, "/v1/auth/login", body: twice)
            #expect(status == 400)
            let error = try WireFormat.decoder().decode(APIErrorBody.self, from: body).error
            #expect(error.code == "bad_request" && error.message.hasPrefix("field 'id': given twice in the body (line 1, column 53)"), "\(error)")
            #expect(!String(decoding: body, as: UTF8.self).contains("token"))

            let comma = Data(#"{"id":"carol","password":"password-1","role":"DataOwner-x",}"#.utf8)
            let (refused, answer) = try await server.client.send(.POST, "/v1/users", body: comma, token: admin.token)
            #expect(refused == 400 && String(decoding: answer, as: UTF8.self).contains("trailing comma before '}'"), "\(String(decoding: answer, as: UTF8.self))")
            #expect(try await admin.listUsers().map(\.id).contains("carol") == false)
            // The same body without the comma is fine.
            let (created, _) = try await server.client.send(.POST, "/v1/users", body: Data(#"{"id":"carol","password":"password-1","role":"DataOwner-x"}"#.utf8), token: admin.token)
            #expect(created == 201)
        }
    }
}
