import CloisterAPI
import CloisterClient
import CloisterTestSupport
import Crypto
import Executors
import Foundation
import ProtectedFiles
import SQLKit
import Scenarios
import Testing
@testable import Platform

/// Task receipts (docs/receipts.md) from a real server over HTTP: one for every final state, each
/// verified offline by `ReceiptVerifier`, by `cloister receipt verify` and by the independent
/// Python verifier; and every kind of tampering found, with a message naming what is wrong.
@Suite("Receipts")
struct ReceiptTests {
    /// Two parties over builtin-ordered-set-intersect, and a lone one over builtin-echo.
    struct World {
        let context: ScenarioContext
        let org1: Party
        let org2: Party
        let loner: Party
        let intersect: Function
        let echo: Function

        static func make(_ server: TestServer) async throws -> World {
            let context = server.scenarioContext
            let (functionOwner, owners) = try await context.parties(["org1", "org2"], attribute: "rc")
            let (echoOwner, lone) = try await context.parties(["loner"], attribute: "echo")
            let intersect = try await functionOwner.registerFunction(RegisterFunctionRequest(
                name: "builtin-ordered-set-intersect", executorType: "builtin",
                arguments: [FunctionArgumentSpec(key: "order", defaultValue: "ascending", allowOverwrite: false)],
                inputs: [FunctionFileSpec(name: "input_data1"), FunctionFileSpec(name: "input_data2")],
                outputs: [FunctionFileSpec(name: "output_result1"), FunctionFileSpec(name: "output_result2")]))
            let echo = try await echoOwner.registerFunction(RegisterFunctionRequest(
                name: "builtin-echo", executorType: "builtin", arguments: [FunctionArgumentSpec(key: "message", defaultValue: "hi", allowOverwrite: true)]))
            return World(context: context, org1: owners["org1"]!, org2: owners["org2"]!, loner: lone["loner"]!, intersect: intersect, echo: echo)
        }

        /// Encrypts `text` (cloister-file-256) and registers it for `party`; the file and its ciphertext.
        func input(_ party: Party, _ text: String) async throws -> (DataFile, [UInt8]) {
            let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let sink = MemoryFile()
            let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: key, output: sink)
            try writer.write(Array(text.utf8))
            let tag = try writer.finish()
            let file = try await party.client.registerInput(RegisterInputRequest(
                url: "data:application/octet-stream;base64," + Data(sink.bytes).base64EncodedString(), scheme: "cloister-file-256",
                key: Hex.encode(key), tag: Hex.encode(tag)))
            return (file, sink.bytes)
        }

        /// Runs the intersection with `second` as org2's list; the task as it ended, both
        /// ciphertexts, and each party's output (id, and its bytes when written).
        func intersection(second: String = "banana\ncherry\ndate\n") async throws -> (task: TaskInfo, inputs: [[UInt8]], outputs: [(id: String, bytes: Data?)]) {
            let task = try await org1.client.createTask(CreateTaskRequest(
                functionId: intersect.id, executor: "builtin",
                inputsOwnership: ["input_data1": [org1.id], "input_data2": [org2.id]],
                outputsOwnership: ["output_result1": [org1.id], "output_result2": [org2.id]]))
            let (input1, bytes1) = try await input(org1, "apple\nbanana\ncherry\n")
            let (input2, bytes2) = try await input(org2, second)
            let (output1, _) = try await org1.registerOutput()
            let (output2, _) = try await org2.registerOutput()
            _ = try await org1.client.assignData(task.id, inputs: ["input_data1": input1.id], outputs: ["output_result1": output1.id])
            _ = try await org2.client.assignData(task.id, inputs: ["input_data2": input2.id], outputs: ["output_result2": output2.id])
            _ = try await org1.client.approveTask(task.id)
            _ = try await org2.client.approveTask(task.id)
            _ = try await org1.client.invokeTask(task.id)
            let done = try await org1.client.waitForTask(task.id, timeout: .seconds(120))
            let written = done.state == .finished
            return (
                done, [bytes1, bytes2],
                [
                    (output1.id, written ? try await org1.client.downloadOutput(output1.id) : nil),
                    (output2.id, written ? try await org2.client.downloadOutput(output2.id) : nil),
                ]
            )
        }
    }

    /// The receipt's `receipt` object.
    static func body(_ document: Data) throws -> JSONValue {
        try #require(try JSONValue.parseCanonical(Array(document))["receipt"])
    }

    static func sha256(_ bytes: some DataProtocol) -> String { Hex.encode(SHA256.hash(data: Array(bytes))) }

    @Test("Finished, Failed and Canceled each get a receipt that verifies, signed by the worker that ran it or by the platform, chained one after another")
    func everyFinalState() async throws {
        try await TestServer.with { server in
            let world = try await World.make(server)
            let keys = try await world.org1.client.workerKeys()
            let attestation = try await server.client.attestation()
            let workerKey = try #require(keys.first { $0.keyId == server.platform.workerKeyId })
            #expect(workerKey.publicKey == server.platform.workerPublicKey && workerKey.kind == "worker" && workerKey.active)
            #expect(attestation.platform.kind == "platform" && attestation.evidence == nil)
            #expect(attestation.workers.map(\.keyId).contains(workerKey.keyId))
            let workerPublic = try Hex.decode(workerKey.publicKey)
            let platformPublic = try Hex.decode(attestation.platform.publicKey)

            // Finished: every field, and the outputs each party holds match their hashes.
            let run = try await world.intersection()
            #expect(run.task.state == .finished)
            let finished = try await world.org1.client.taskReceipt(run.task.id)
            let body = try Self.body(finished)
            #expect(body["state"] == .string("Finished") && body["task_id"] == .string(run.task.id) && body["reason"] == .null)
            #expect(body["signer"]?["kind"] == .string("worker") && body["signer"]?["key_id"] == .string(workerKey.keyId))
            #expect(body["function_id"] == .string(world.intersect.id) && body["executor_type"] == .string("builtin"))
            #expect(body["payload_sha256"] == .string(try await world.org1.client.getFunction(world.intersect.id).payloadSha256))
            #expect(body["result_sha256"] == .string(Self.sha256(Array(run.task.result!.returnValue.utf8))))
            #expect(body["runtime_sha256"]?.string?.count == 64)
            #expect(body["arguments_sha256"] == .string(Self.sha256(JSONValue.object(["order": .string("ascending")]).canonicalBytes)))
            let inputs = try #require(body["inputs"]?.array)
            #expect(inputs.map { $0["name"] } == [.string("input_data1"), .string("input_data2")])
            #expect(inputs.map { $0["ciphertext_sha256"] } == run.inputs.map { .string(Self.sha256($0)) })
            #expect(inputs[1]["owners"] == .array([.string(world.org2.id)]))
            let outputs = try #require(body["outputs"]?.array)
            #expect(outputs.map { $0["ciphertext_sha256"] } == run.outputs.map { .string(Self.sha256($0.bytes!)) })
            #expect(outputs.map { $0["id"] } == run.outputs.map { .string($0.id) })
            #expect(outputs.allSatisfy { $0["tag"]?.string?.isEmpty == false })
            let approvals = try #require(body["approvals"]?.array)
            #expect(Set(approvals.compactMap { $0["user"]?.string }) == [world.org1.id, world.org2.id])
            #expect(approvals.allSatisfy { ($0["time"]?.integer ?? 0) > 0 })
            #expect(body["started_at"]?.integer != nil && body["ended_at"]!.integer! >= body["started_at"]!.integer!)
            let head = try await world.org1.client.auditHead()
            let auditHead = try #require(body["audit_head"]?["sequence"]?.integer)
            #expect(auditHead > 0 && auditHead <= head.sequence)
            let report = try ReceiptVerifier.verify(
                receipt: Array(finished), publicKey: workerPublic,
                outputs: [("output_result1", Array(run.outputs[0].bytes!)), ("output_result2", Array(run.outputs[1].bytes!))])
            #expect(report.state == "Finished" && report.checks.count == 4)
            // Both participants get the same bytes.
            #expect(try await world.org2.client.taskReceipt(run.task.id) == finished)

            // Failed by its function (org2's list is out of order): the worker signs; no output.
            let broken = try await world.intersection(second: "date\nbanana\n")
            #expect(broken.task.state == .failed)
            let failed = try await world.org2.client.taskReceipt(broken.task.id)
            let failedBody = try Self.body(failed)
            #expect(failedBody["state"] == .string("Failed") && failedBody["reason"] == .string(broken.task.reason!))
            #expect(failedBody["signer"]?["kind"] == .string("worker") && failedBody["result_sha256"] == .null)
            #expect(failedBody["inputs"]?.array?[1]["ciphertext_sha256"] == .string(Self.sha256(broken.inputs[1])))
            #expect(failedBody["outputs"]?.array?.allSatisfy { $0["ciphertext_sha256"] == .null && $0["tag"] == .null } == true)
            _ = try ReceiptVerifier.verify(receipt: Array(failed), publicKey: workerPublic, previous: Array(finished))

            // Canceled before it ran: the platform signs.
            let lone = try await world.loner.client.createTask(CreateTaskRequest(functionId: world.echo.id, executor: "builtin"))
            // Not ended: no receipt yet (409); someone else: the 404 of a task they cannot see.
            let early = await #expect(throws: CloisterClientError.self) { try await world.loner.client.taskReceipt(lone.id) }
            #expect(early?.status == 409 && early?.message.contains("its receipt is issued when it ends") == true)
            let stranger = await #expect(throws: CloisterClientError.self) { try await world.org1.client.taskReceipt(lone.id) }
            let unseen = await #expect(throws: CloisterClientError.self) { try await world.org1.client.getTask(lone.id) }
            #expect(stranger?.status == 404 && stranger == unseen)
            _ = try await world.loner.client.cancelTask(lone.id)
            let canceled = try await world.loner.client.taskReceipt(lone.id)
            let canceledBody = try Self.body(canceled)
            #expect(canceledBody["state"] == .string("Canceled") && canceledBody["reason"] == .string("canceled by \(world.loner.id)"))
            #expect(canceledBody["signer"] == .object(["kind": .string("platform"), "key_id": .string(attestation.platform.keyId)]))
            #expect(canceledBody["worker"] == .null && canceledBody["started_at"] == .null && canceledBody["runtime_sha256"] == .null)
            _ = try ReceiptVerifier.verify(receipt: Array(canceled), publicKey: platformPublic, previous: Array(failed))

            // The chain: 1, 2, 3, each linked to the hash of the one before; the head names the last.
            #expect([body, failedBody, canceledBody].map { $0["sequence"] } == [.integer(1), .integer(2), .integer(3)])
            #expect(body["previous_receipt_sha256"] == .null)
            let newest = try await world.org1.client.auditHead()
            #expect(newest.receiptSequence == 3 && newest.receiptSha256 == Self.sha256(canceled))
            let summary = try await server.platform.database.verifyAuditChain()
            #expect(summary.receipts == 3 && summary.entries == newest.sequence)
        }
    }

    @Test("a changed byte, an output file swapped, another worker's key, a broken chain link and a file that is no receipt are each refused, naming the check")
    func tamperedReceipts() async throws {
        try await TestServer.with { server in
            let world = try await World.make(server)
            let first = try await world.intersection()
            let second = try await world.intersection()
            let one = Array(try await world.org1.client.taskReceipt(first.task.id))
            let two = Array(try await world.org1.client.taskReceipt(second.task.id))
            let key = try Hex.decode(server.platform.workerPublicKey)
            let mine = Array(second.outputs[0].bytes!)
            _ = try ReceiptVerifier.verify(receipt: two, publicKey: key, previous: one, outputs: [("output_result1", mine)])

            func refusal(_ receipt: [UInt8], key: [UInt8] = key, previous: [UInt8]? = nil, outputs: [(name: String, bytes: [UInt8])] = []) -> String {
                do {
                    _ = try ReceiptVerifier.verify(receipt: receipt, publicKey: key, previous: previous, outputs: outputs)
                    return "verified"
                } catch {
                    return error.description
                }
            }
            // One byte of the signed body changed (a digit of the result's hash).
            var changed = two
            let resultRange = try #require(String(decoding: two, as: UTF8.self).range(of: "\"result_sha256\":\""))
            let index = String(decoding: two, as: UTF8.self).utf8.distance(from: String(decoding: two, as: UTF8.self).startIndex, to: resultRange.upperBound)
            changed[index] = changed[index] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
            #expect(refusal(changed).hasPrefix("signature: it does not verify with the signer's key"))
            #expect(refusal(changed).hasSuffix("the receipt was changed after it was signed"))
            // The output file swapped for another (the first task's output, and a copy with one byte flipped).
            let other = Array(first.outputs[0].bytes!)
            #expect(refusal(two, outputs: [("output_result1", other)]).hasPrefix("output output_result1: the file has SHA-256"))
            #expect(refusal(two, outputs: [("output_result1", other)]).hasSuffix("it is not the output this task wrote"))
            var flipped = mine
            flipped[flipped.count / 2] ^= 1
            #expect(refusal(two, outputs: [("output_result1", flipped)]).contains("it is not the output this task wrote"))
            #expect(refusal(two, outputs: [("nonesuch", mine)]) == "output nonesuch: the receipt names no such output (it has: output_result1, output_result2)")
            // Another worker's key.
            let stranger = Array(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
            #expect(refusal(two, key: stranger).hasPrefix("signature: the receipt was signed by the worker key \(server.platform.workerKeyId.prefix(16))…, not by the key given"))
            // A broken chain link: the receipt before the one before.
            let three = try await world.intersection()
            let threeReceipt = Array(try await world.org1.client.taskReceipt(three.task.id))
            #expect(refusal(threeReceipt, previous: one).hasPrefix("chain: receipt 3 links to"))
            #expect(refusal(threeReceipt, previous: one).hasSuffix("it is not the receipt before this one"))
            #expect(refusal(threeReceipt, previous: two) == "verified")
            // Not a receipt.
            #expect(refusal(Array(two.prefix(100))).hasPrefix("the receipt is not a receipt: not valid JSON"))
            #expect(refusal(Array("{\"receipt\":{},\"signature\":{}}".utf8)) == "the receipt is not a version 1 cloister.task-receipt")
            // The same receipt re-formatted (indented, keys in another order) still verifies.
            let object = try JSONSerialization.jsonObject(with: Data(two))
            let pretty = Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]))
            #expect(pretty != two && refusal(pretty, previous: one) == "verified")

            // The same checks through `cloister receipt verify`, files on disk.
            let folder = try Self.files(server.folder + "/receipts", [
                ("one.json", Data(one)), ("two.json", Data(two)), ("changed.json", Data(changed)), ("three.json", Data(threeReceipt)),
                ("mine", Data(mine)), ("other", Data(other)), ("worker.pub", Data((server.platform.workerPublicKey + "\n").utf8)),
            ])
            let ok = Self.cloister(["receipt", "verify", folder + "/two.json", "--worker-key", folder + "/worker.pub", "--previous", folder + "/one.json", "--output", "output_result1=" + folder + "/mine"])
            #expect(ok.status == 0, "\(ok)")
            #expect(ok.output.contains("signature: ok (worker key") && ok.output.contains("chain: ok (follows receipt 1)") && ok.output.contains("output output_result1: ok"))
            #expect(ok.output.contains("receipt 2 of task \(second.task.id) (Finished): verified"))
            for (arguments, message) in [
                ([folder + "/changed.json", "--worker-key", server.platform.workerPublicKey], "the receipt was changed after it was signed"),
                ([folder + "/two.json", "--worker-key", Hex.encode(stranger)], "not by the key given"),
                ([folder + "/three.json", "--worker-key", server.platform.workerPublicKey, "--previous", folder + "/one.json"], "it is not the receipt before this one"),
                ([folder + "/two.json", "--worker-key", server.platform.workerPublicKey, "--output", "output_result1=" + folder + "/other"], "it is not the output this task wrote"),
            ] {
                let refused = Self.cloister(["receipt", "verify"] + arguments)
                #expect(refused.status == 1 && refused.output.contains("cloister: receipt verification failed: ") && refused.output.contains(message), "\(refused)")
            }
        }
    }

    @Test("the Python client's verifier, written from docs/receipts.md (Python, cryptography), accepts real receipts and refuses tampered ones")
    func independentVerifier() async throws {
        try await TestServer.with { server in
            let world = try await World.make(server)
            let first = try await world.intersection()
            let second = try await world.intersection()
            let lone = try await world.loner.client.createTask(CreateTaskRequest(
                functionId: world.echo.id, functionArguments: ["message": ArgumentValue("quote \" backslash \\ é ✓")], executor: "builtin"))
            _ = try await world.loner.client.cancelTask(lone.id)
            // A reason with quotes in it: the string escapes of the canonical encoding.
            let broken = try await world.intersection(second: "cherry\nbanana\n")
            #expect(broken.task.state == .failed && broken.task.reason?.contains("\"") == true, "\(broken.task.reason ?? "")")
            let files: [(String, Data)] = [
                ("one.json", try await world.org1.client.taskReceipt(first.task.id)), ("two.json", try await world.org2.client.taskReceipt(second.task.id)),
                ("canceled.json", try await world.loner.client.taskReceipt(lone.id)), ("mine", second.outputs[1].bytes!), ("other", first.outputs[1].bytes!),
                ("failed.json", try await world.org1.client.taskReceipt(broken.task.id)),
            ]
            let folder = try Self.files(server.folder + "/python", files)
            let attestation = try await server.client.attestation()
            let worker = server.platform.workerPublicKey
            // The module runs as a script of its own (it imports nothing of the rest of the client).
            let script = PackagePaths.root.appendingPathComponent("clients/python/cloister/receipts.py").path
            func python(_ arguments: [String]) -> (status: Int32, output: String) {
                HostTool.run("/usr/bin/env", ["python3", script] + arguments)
            }
            let ok = python([folder + "/two.json", "--key", worker, "--previous", folder + "/one.json", "--output", "output_result2=" + folder + "/mine"])
            #expect(ok.status == 0 && ok.output.contains("verified: receipt 2 of task \(second.task.id) (Finished)"), "\(ok)")
            let canceled = python([folder + "/canceled.json", "--key", attestation.platform.publicKey])
            #expect(canceled.status == 0 && canceled.output.contains("(Canceled)"), "\(canceled)")
            let failed = python([folder + "/failed.json", "--key", worker, "--previous", folder + "/canceled.json"])
            #expect(failed.status == 0 && failed.output.contains("(Failed)") && failed.output.contains("chain: ok"), "\(failed)")
            for (arguments, message) in [
                ([folder + "/two.json", "--key", attestation.platform.publicKey], "FAILED: signature"),
                ([folder + "/canceled.json", "--key", worker], "FAILED: signature"),
                ([folder + "/two.json", "--key", worker, "--output", "output_result2=" + folder + "/other"], "FAILED: output output_result2"),
                ([folder + "/one.json", "--key", worker, "--previous", folder + "/two.json"], "FAILED: chain"),
            ] {
                let refused = python(arguments)
                #expect(refused.status == 1 && refused.output.contains(message), "\(arguments): \(refused)")
            }
            var changed = Array(files[1].1)
            let index = try #require(changed.firstIndex(of: UInt8(ascii: "F")))  // "Finished"
            changed[index] = UInt8(ascii: "G")
            try Data(changed).write(to: URL(fileURLWithPath: folder + "/changed.json"))
            let refused = python([folder + "/changed.json", "--key", worker])
            #expect(refused.status == 1 && refused.output.contains("FAILED: signature: does not verify"), "\(refused)")
        }
    }

    @Test("canonical JSON is the encoding docs/receipts.md specifies, byte for byte, and the Python verifier's encoder agrees")
    func canonicalEncoding() throws {
        let example: JSONValue = .object(["b": .array([.integer(1), .string("x\ny")]), "a": .null])
        #expect(String(decoding: example.canonicalBytes, as: UTF8.self) == #"{"a":null,"b":[1,"x\ny"]}"#)
        #expect(example.canonicalBytes.count == 25)
        let tricky: JSONValue = .object([
            "é": .string("quote \" backslash \\ slash / \u{1} \u{8}\u{c}\n\r\t \u{1f} \u{7f} \u{2028} ✓"), "Z": .integer(-42), "a": .bool(true),
            "nested": .array([.object(["y": .bool(false), "x": .null]), .integer(9_007_199_254_740_991)]),
        ])
        let expected = #"{"Z":-42,"a":true,"nested":[{"x":null,"y":false},9007199254740991],"é":"quote \" backslash \\ slash / \u0001 \b\f\n\r\t \u001f"#
            + " \u{7f} \u{2028} ✓\"}"
        #expect(String(decoding: tricky.canonicalBytes, as: UTF8.self) == expected)
        // Parsing and encoding again gives the same bytes, whatever the whitespace; fractions are refused.
        #expect(try JSONValue.parseCanonical(Array(" {\n \"a\" : null , \"b\":[ 1,\"x\\ny\" ]} ".utf8)) == example)
        #expect(try JSONValue.parseCanonical(tricky.canonicalBytes).canonicalBytes == tricky.canonicalBytes)
        #expect(throws: CanonicalJSONError.self) { try JSONValue.parseCanonical(Array(#"{"a":[1,2.5]}"#.utf8)) }
        // The Python verifier's own encoder (clients/python/cloister/receipts.py), on the parsed value.
        let folder = try Self.files(FileManager.default.temporaryDirectory.appendingPathComponent("cloister-canonical-\(UUID().uuidString)").path, [("value.json", Data(tricky.canonicalBytes))])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let scripts = PackagePaths.root.appendingPathComponent("clients/python/cloister").path
        let python = HostTool.run("/usr/bin/env", [
            "python3", "-c",
            "import json, sys; sys.path.insert(0, sys.argv[1]); import receipts; sys.stdout.buffer.write(receipts.canonical(json.load(open(sys.argv[2], encoding='utf-8'))))",
            scripts, folder + "/value.json",
        ])
        #expect(python.status == 0 && python.output == expected, "\(python)")
    }

    /// Ways to tamper with the audit log in the database, and what verification says of each.
    enum Tamper: String, CaseIterable, Sendable {
        case edit, deleteMiddle, deleteNewest, reorder, rewrite
    }

    @Test(
        "an audit entry edited, deleted (in the middle or the newest) or reordered in the database is found, naming the entry; so is a log rewritten with every hash recomputed, by the receipt that names its head",
        arguments: Tamper.allCases)
    func tamperedAuditLog(_ tamper: Tamper) async throws {
        try await TestServer.with(workers: 0) { server in
            let admin = try await server.session("admin", TestServer.adminPassword)
            for index in 0..<6 {
                _ = try await admin.registerUser(RegisterUserRequest(id: "user\(index)", password: "password-1", role: "FunctionOwner"))
            }
            // A receipt, which names the audit head of its time.
            let platform = server.platform
            try await StorageFixtures.users(platform)
            let echo = try await StorageFixtures.echo(platform)
            let task = try await platform.tasks.create(StorageFixtures.user, CreateTaskRequest(functionId: echo.id, executor: "builtin"))
            _ = try await platform.tasks.cancel(StorageFixtures.user, task.id)
            let database = server.platform.database
            let before = try await database.verifyAuditChain()
            #expect(before.entries >= 8 && before.receipts == 1)
            let ok = Self.cloister(["audit", "verify"] + Self.databaseArguments(database))
            #expect(ok.status == 0 && ok.output.contains("audit log: \(before.entries) entries, chain intact"), "\(ok)")
            let middle = before.entries / 2
            let id = try await database.read { sql in
                try await sql.select().column("id").from("audit").where("seq", .equal, middle).first(decodingColumn: "id", as: Int.self)!
            }
            let expected: String
            switch tamper {
            case .edit:
                try await Self.sql(database, "UPDATE audit SET detail = 'nothing happened' WHERE seq = \(middle)")
                expected = "audit entry \(middle) (row id \(id)) was edited: its content hashes to"
            case .deleteMiddle:
                try await Self.sql(database, "DELETE FROM audit WHERE seq = \(middle)")
                expected = "audit entry \(middle) is missing: the log goes on with entry \(middle + 1)"
            case .deleteNewest:
                try await Self.sql(database, "DELETE FROM audit WHERE seq = \(before.entries)")
                expected = "audit entry \(before.entries) is missing: the head names entry \(before.entries), the log ends at entry \(before.entries - 1): the newest entries were deleted"
            case .reorder:
                let next = try await database.read { sql in
                    try await sql.select().column("id").from("audit").where("seq", .equal, middle + 1).first(decodingColumn: "id", as: Int.self)!
                }
                try await Self.sql(database, "UPDATE audit SET id = -1 WHERE id = \(id)")
                try await Self.sql(database, "UPDATE audit SET id = \(id) WHERE id = \(next)")
                try await Self.sql(database, "UPDATE audit SET id = \(next) WHERE id = -1")
                expected = "audit entry \(middle) (row id \(next)) is out of order: entry \(middle + 1) (row id \(id)) comes before it; entries were reordered"
            case .rewrite:
                // Edited, then every hash from there on recomputed and the head moved, by someone
                // who knows the format: the chain holds, the receipt's audit head does not.
                try await Self.sql(database, "UPDATE audit SET detail = 'nothing happened' WHERE seq = \(middle)")
                try await database.write("test.rewrite") { transaction in
                    let sql = transaction.sql
                    var previous = try await sql.select().column("sha256").from("audit").where("seq", .equal, middle - 1)
                        .first(decodingColumn: "sha256", as: String.self)!
                    for sequence in middle...before.entries {
                        let row = try await sql.select().columns("time", "user_id", "action", "object", "decision", "detail").from("audit")
                            .where("seq", .equal, sequence).first()!
                        let fields = AuditChain.Fields(
                            time: try row.decode(column: "time", as: Int.self), user: try row.decode(column: "user_id", as: String.self),
                            action: try row.decode(column: "action", as: String.self), object: try row.decode(column: "object", as: String.self),
                            decision: try row.decode(column: "decision", as: String.self), detail: try row.decode(column: "detail", as: String.self))
                        let hash = AuditChain.hash(fields, sequence: sequence, previous: previous)
                        try await sql.update("audit").set("previous_sha256", to: previous).set("sha256", to: hash).where("seq", .equal, sequence).run()
                        previous = hash
                    }
                    try await sql.update("audit_head").set("audit_sha256", to: previous).run()
                }
                expected = "receipt 1 (task \(task.id)) names audit entry "
            }
            let found = await #expect(throws: AuditChainBroken.self) { try await database.verifyAuditChain() }
            #expect(found?.description.hasPrefix(expected) == true, "\(String(describing: found))")
            let refused = Self.cloister(["audit", "verify"] + Self.databaseArguments(database))
            #expect(refused.status == 1 && refused.output.contains("cloister: the audit log is not intact: \(found?.description ?? "?")"), "\(refused)")
        }
    }

    @Test("concurrent calls from many clients leave one linear chain; each final state's audit entry is at or before its receipt's audit head")
    func concurrentWritersKeepOneChain() async throws {
        try await TestServer.with { server in
            let world = try await World.make(server)
            let ids = try await withThrowingTaskGroup(of: String.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        let task = try await world.loner.client.createTask(CreateTaskRequest(
                            functionId: world.echo.id, functionArguments: ["message": ArgumentValue("\(index)")], executor: "builtin"))
                        if index % 3 == 0 { _ = try await world.loner.client.cancelTask(task.id) } else { _ = try await world.loner.client.invokeTask(task.id) }
                        _ = try await world.loner.client.waitForTask(task.id, timeout: .seconds(120))
                        return task.id
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let summary = try await server.platform.database.verifyAuditChain()
            #expect(summary.receipts == 24)
            var bySequence: [Int: [UInt8]] = [:]
            for id in ids {
                let document = Array(try await world.loner.client.taskReceipt(id))
                let body = try Self.body(Data(document))
                bySequence[body["sequence"]!.integer!] = document
                // The entry of the final state is in the log the receipt names, at or before its head.
                let head = try #require(body["audit_head"])
                let (final, named) = try await server.platform.database.read { sql in
                    (
                        try await sql.select().columns("seq", "detail").from("audit").where("object", .equal, id).where("action", .equal, "task.state")
                            .orderBy("seq", .descending).first()!,
                        try await sql.select().column("sha256").from("audit").where("seq", .equal, Int(head["sequence"]!.integer!))
                            .first(decodingColumn: "sha256", as: String.self)
                    )
                }
                #expect(["Finished", "Canceled"].contains(try final.decode(column: "detail", as: String.self)))
                #expect(try final.decode(column: "seq", as: Int.self) <= head["sequence"]!.integer!)
                #expect(named == head["sha256"]?.string)
            }
            #expect(bySequence.keys.sorted() == Array(1...24))
            let platformKey = try Hex.decode(try await server.client.attestation().platform.publicKey)
            let workerKey = try Hex.decode(server.platform.workerPublicKey)
            for sequence in 2...24 {
                let document = bySequence[sequence]!
                let key = try Self.body(Data(document))["signer"]?["kind"] == .string("platform") ? platformKey : workerKey
                _ = try ReceiptVerifier.verify(receipt: document, publicKey: key, previous: bySequence[sequence - 1])
            }
        }
    }

    @Test("a worker key file others may read is refused with a clear message; the default one is created 0600 and kept across restarts")
    func workerKeyFile() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-key-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let path = folder + "/worker.key"
        let created = try SigningIdentity.worker(path: path, create: true)
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
        #expect(try SigningIdentity.worker(path: path, create: true).keyId == created.keyId)
        chmod(path, 0o644)
        #expect(throws: PlatformSetupError.self) { try SigningIdentity.worker(path: path, create: true) }
        do {
            _ = try SigningIdentity.worker(path: path, create: false)
        } catch {
            #expect(error.description == "the worker key \(path) may be read or written by others (mode 644): make it private with `chmod 600 \(path)`, or give a new key")
        }
        let given = folder + "/given.key"
        #expect(throws: PlatformSetupError.self) { try SigningIdentity.worker(path: given, create: false) }
        try Data("not a key".utf8).write(to: URL(fileURLWithPath: given))
        chmod(given, 0o600)
        do {
            _ = try SigningIdentity.worker(path: given, create: false)
            Issue.record("a file that is no key was taken")
        } catch {
            #expect(error.description.contains("is not an Ed25519 key: 32 bytes, raw or as 64 hex digits"))
        }
        // An operator's key (raw bytes) is the one a platform signs with.
        let seed = (0..<32).map { UInt8($0) }
        try Data(seed).write(to: URL(fileURLWithPath: given))
        let expected = try SigningIdentity(kind: .worker, seed: seed).keyId
        try await TestServer.with(workers: 0, configure: { $0.workerKey = .file(given) }) { server in
            #expect(server.platform.workerKeyId == expected)
        }
        // A platform refuses to open with a key others may read.
        chmod(given, 0o640)
        await #expect(throws: PlatformSetupError.self) {
            try await TestServer.with(workers: 0, configure: { $0.workerKey = .file(given) }) { _ in }
        }
    }

    @Test("a database from before the chain (schema 3) gets its audit entries chained in id order when it is migrated")
    func upgradeChainsOldEntries() async throws {
        let database = try await TestDatabase.make() ?? .sqlite(
            path: FileManager.default.temporaryDirectory.appendingPathComponent("cloister-upgrade-\(UUID().uuidString).sqlite").path)
        defer {
            if case .sqlite(let path) = database { for suffix in ["", "-wal", "-shm"] { unlink(path + suffix) } }
        }
        let opened = try await PlatformDatabase.open(database)
        // Schema 3, as an older cloister left it, with entries written the old way.
        try await opened.write("old") { transaction in
            let sql = transaction.sql
            try await sql.create(table: "schema_migrations").column("version", type: .bigint, .primaryKey(autoIncrement: false))
                .column("name", type: .text, .notNull).column("applied_at", type: .bigint, .notNull).run()
            for migration in Migrations.all.prefix(3) {
                try await migration.apply(sql)
                try await sql.insert(into: "schema_migrations").columns("version", "name", "applied_at")
                    .values(SQLBind(migration.version), SQLBind(migration.name), SQLBind(0)).run()
            }
            for index in 0..<5 {
                try await sql.insert(into: "audit").columns("time", "user_id", "action", "object", "decision", "detail")
                    .values(SQLBind(1_000 + index), SQLBind("old\(index)"), SQLBind("user.login"), SQLBind(""), SQLBind("allowed"), SQLBind("")).run()
            }
        }
        try await opened.migrate()
        let summary = try await opened.verifyAuditChain()
        #expect(summary.entries == 5 && summary.receipts == 0)
        let users = try await opened.read { sql in
            try await sql.select().column("user_id").from("audit").orderBy("seq").all(decodingColumn: "user_id", as: String.self)
        }
        #expect(users == (0..<5).map { "old\($0)" })
        try await opened.shutdown()
        await TestDatabase.drop(database)
    }

    // MARK: Helpers

    /// Runs one statement outside Cloister's own code path (as someone with the database would).
    static func sql(_ database: PlatformDatabase, _ statement: String) async throws {
        try await database.write("test.tamper") { transaction in try await transaction.sql.raw(SQLQueryString(statement)).run() }
    }

    /// The `--database` argument of `cloister audit verify` for `database`.
    static func databaseArguments(_ database: PlatformDatabase) -> [String] {
        switch database.location {
        case .sqlite(let path): return ["--database", "sqlite:" + path]
        case .postgres(let url): return ["--database", url]
        }
    }

    /// Runs the `cloister` executable; its exit status and what it wrote (standard output and error).
    static func cloister(_ arguments: [String]) -> (status: Int32, output: String) {
        HostTool.run(CloisterExecutable.url.path, arguments)
    }

    /// Writes each `(name, bytes)` into `folder` (created); the folder.
    static func files(_ folder: String, _ files: [(String, Data)]) throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (name, data) in files { try data.write(to: URL(fileURLWithPath: folder + "/" + name)) }
        return folder
    }
}
