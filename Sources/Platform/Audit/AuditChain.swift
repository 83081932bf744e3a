import Crypto
import Executors
import Foundation
import ProtectedFiles
import SQLKit

/// The audit log as a hash chain, and the chain of task receipts beside it.
///
/// Every audit entry has a sequence number (1, 2, 3, … without gaps) and stores the SHA-256 of the
/// entry before it (`previous_sha256`; 64 zeros for the first) and its own (`sha256`): the SHA-256
/// of the canonical JSON (`JSONValue.canonicalBytes`) of `{"action", "decision", "detail", "object",
/// "previous_sha256", "sequence", "time", "user"}` (docs/receipts.md). The one-row table
/// `audit_head` holds the newest entry's sequence and hash, and the newest receipt's. Editing an
/// entry changes its hash; deleting or reordering entries breaks a link or the sequence; deleting
/// the newest ones leaves the head pointing past the end: ``verify(_:)`` finds each and names the
/// entry. It also checks every receipt against the log (each names an audit head of its time), so a
/// log rewritten with every hash recomputed is found as well.
///
/// **One writer of the head at a time.** A transaction buffers its audit entries and receipts and
/// writes them last, just before its commit (``seal(_:)``, called by `PlatformDatabase.write`):
/// it reads the head, links its entries and receipts after it, and writes the head back. On
/// PostgreSQL the head is read `FOR UPDATE`: the row lock is the serialisation point of every
/// writing server and worker, so the chain stays linear; it is taken last (nothing is locked after
/// it, so it joins no deadlock) and held only for these few statements and the commit. A row lock
/// rather than an advisory lock because it needs no key of its own and is released by the same
/// commit or rollback that ends the chain's writes. On SQLite the write transaction already holds
/// the whole database; a group commit runs its transactions one after another on one connection,
/// each in a savepoint that reads the head the one before it wrote (a savepoint rolled back takes
/// its entries and its head update with it), so the chain stays linear there too.
enum AuditChain {
    /// The `previous_sha256` of the first entry.
    static let genesis = String(repeating: "0", count: 64)

    /// The newest entry and receipt.
    struct Head: Sendable {
        var sequence: Int
        var sha256: String
        var receiptSequence: Int
        var receiptSha256: String?
    }

    /// The columns of an entry that its hash covers, as stored.
    struct Fields: Sendable {
        var time: Int
        var user: String
        var action: String
        var object: String
        var decision: String
        var detail: String
    }

    /// The hash of one entry, linked after `previous`.
    static func hash(_ entry: Fields, sequence: Int, previous: String) -> String {
        let object: JSONValue = .object([
            "action": .string(entry.action), "decision": .string(entry.decision), "detail": .string(entry.detail),
            "object": .string(entry.object), "previous_sha256": .string(previous), "sequence": .integer(sequence),
            "time": .integer(entry.time), "user": .string(entry.user),
        ])
        return Hex.encode(SHA256.hash(data: object.canonicalBytes))
    }

    /// Writes the transaction's buffered audit entries and receipts after the head, and the new head.
    static func seal(_ transaction: Transaction) async throws {
        let (entries, receipts) = transaction.pending.take()
        guard !entries.isEmpty || !receipts.isEmpty else { return }
        let sql = transaction.sql
        var head = try await self.head(sql, lock: true)
        for entry in entries {
            let sequence = head.sequence + 1
            let sha256 = hash(entry, sequence: sequence, previous: head.sha256)
            let binds: [any Encodable & Sendable] = [
                entry.time, entry.user, entry.action, entry.object, entry.decision, entry.detail, sequence, head.sha256, sha256,
            ]
            try await CachedStatement("audit.insert", on: sql, binds: binds) { sql, values in
                sql.insert(into: "audit")
                    .columns("time", "user_id", "action", "object", "decision", "detail", "seq", "previous_sha256", "sha256")
                    .values(values).query
            }.run(on: sql)
            head.sequence = sequence
            head.sha256 = sha256
        }
        for receipt in receipts {
            let sealed = try TaskReceipt.seal(receipt, after: head)
            let binds: [any Encodable & Sendable] = [
                receipt.taskId, sealed.sequence, sealed.sha256, receipt.signer.keyId, String(decoding: sealed.document, as: UTF8.self),
            ]
            try await CachedStatement("receipts.insert", on: sql, binds: binds) { sql, values in
                sql.insert(into: "receipts").columns("task_id", "seq", "sha256", "signer", "document").values(values).query
            }.run(on: sql)
            head.receiptSequence = sealed.sequence
            head.receiptSha256 = sealed.sha256
        }
        let binds: [any Encodable & Sendable] = [head.sequence, head.sha256, head.receiptSequence, head.receiptSha256, 1]
        try await CachedStatement("audit_head.update", on: sql, binds: binds) { sql, values in
            sql.update("audit_head")
                .set(SQLColumn("audit_seq"), to: values[0]).set(SQLColumn("audit_sha256"), to: values[1])
                .set(SQLColumn("receipt_seq"), to: values[2]).set(SQLColumn("receipt_sha256"), to: values[3])
                .where(SQLColumn("id"), .equal, values[4]).query
        }.run(on: sql)
    }

    /// The head; with `lock`, locked until the transaction ends (PostgreSQL).
    static func head(_ sql: any SQLDatabase, lock: Bool = false) async throws -> Head {
        let statement = CachedStatement("audit_head.get.\(lock)", on: sql, binds: [1]) { sql, values in
            var query = sql.select().columns("audit_seq", "audit_sha256", "receipt_seq", "receipt_sha256").from("audit_head")
                .where(SQLColumn("id"), .equal, values[0])
            if lock { query = query.lockingClause(LockForUpdate()) }
            return query.query
        }
        guard let row = try await statement.rows(on: sql).first else { throw AuditChainBroken("the audit head (table audit_head, row 1) is missing") }
        return Head(
            sequence: try row.decode(column: "audit_seq", as: Int.self), sha256: try row.decode(column: "audit_sha256", as: String.self),
            receiptSequence: try row.decode(column: "receipt_seq", as: Int.self),
            receiptSha256: try row.decode(column: "receipt_sha256", as: String?.self))
    }

    /// Links the entries of a database from before the chain (migration 4), in id order, and
    /// creates the head.
    static func chainExisting(_ sql: any SQLDatabase) async throws {
        var head = Head(sequence: 0, sha256: genesis, receiptSequence: 0, receiptSha256: nil)
        var after = Int.min
        while true {
            let rows = try await sql.select().columns("id", "time", "user_id", "action", "object", "decision", "detail").from("audit")
                .where("id", .greaterThan, after).orderBy("id").limit(1000).all()
            guard !rows.isEmpty else { break }
            for row in rows {
                let stored = try StoredEntry(row)
                let sequence = head.sequence + 1
                let sha256 = hash(stored.fields, sequence: sequence, previous: head.sha256)
                try await sql.update("audit").set("seq", to: sequence).set("previous_sha256", to: head.sha256).set("sha256", to: sha256)
                    .where("id", .equal, stored.id).run()
                head.sequence = sequence
                head.sha256 = sha256
                after = stored.id
            }
        }
        try await sql.insert(into: "audit_head").columns("id", "audit_seq", "audit_sha256", "receipt_seq", "receipt_sha256")
            .values(SQLBind(1), SQLBind(head.sequence), SQLBind(head.sha256), SQLBind(0), SQLBind(String?.none)).run()
    }

    /// One row of the `audit` table as stored.
    private struct StoredEntry {
        let id: Int
        let fields: Fields
        var sequence: Int?
        var previous: String?
        var sha256: String?

        init(_ row: any SQLRow, chained: Bool = false) throws {
            id = try row.decode(column: "id", as: Int.self)
            fields = Fields(
                time: try row.decode(column: "time", as: Int.self), user: try row.decode(column: "user_id", as: String.self),
                action: try row.decode(column: "action", as: String.self), object: try row.decode(column: "object", as: String.self),
                decision: try row.decode(column: "decision", as: String.self), detail: try row.decode(column: "detail", as: String.self))
            if chained {
                sequence = try row.decode(column: "seq", as: Int?.self)
                previous = try row.decode(column: "previous_sha256", as: String?.self)
                sha256 = try row.decode(column: "sha256", as: String?.self)
            }
        }
    }

    /// Checks the whole chain of the database behind `sql`: every entry in id order, its sequence,
    /// its link to the entry before and its own hash, then the head. The first break found is
    /// thrown as ``AuditChainBroken``, naming the entry (its sequence and row id) and what is wrong.
    static func verify(_ sql: any SQLDatabase) async throws -> AuditChainSummary {
        let head = try await self.head(sql)
        var expected = 1
        var previous = genesis
        var previousId: Int?
        var after = Int.min
        while true {
            let rows = try await sql.select()
                .columns("id", "time", "user_id", "action", "object", "decision", "detail", "seq", "previous_sha256", "sha256")
                .from("audit").where("id", .greaterThan, after).orderBy("id").limit(1000).all()
            guard !rows.isEmpty else { break }
            for row in rows {
                let stored = try StoredEntry(row, chained: true)
                let name = "audit entry \(stored.sequence.map(String.init) ?? "?") (row id \(stored.id))"
                guard let sequence = stored.sequence, let link = stored.previous, let sha256 = stored.sha256 else {
                    throw AuditChainBroken("\(name) has no place in the chain (its sequence or hashes are empty): it was inserted or edited outside Cloister")
                }
                if sequence != expected {
                    let after = previousId.map { " after row id \($0)" } ?? " first"
                    if sequence > expected, let moved = try await sql.select().column("id").from("audit").where("seq", .equal, expected)
                        .first(decodingColumn: "id", as: Int.self)
                    {
                        throw AuditChainBroken(
                            "audit entry \(expected) (row id \(moved)) is out of order: entry \(sequence) (row id \(stored.id)) comes before it; entries were reordered")
                    }
                    if sequence > expected {
                        throw AuditChainBroken(
                            "\(missing(expected, sequence - 1)): the log goes on with entry \(sequence) (row id \(stored.id))\(after): deleted")
                    }
                    throw AuditChainBroken(
                        "\(name) is out of order: entry \(expected) should come\(after); entries were reordered or copied")
                }
                guard link == previous else {
                    throw AuditChainBroken(
                        "\(name) does not follow the entry before it: it links to \(link.prefix(16))…, the entry before hashes to \(previous.prefix(16))…; an entry was deleted, inserted or reordered")
                }
                let computed = hash(stored.fields, sequence: sequence, previous: link)
                guard computed == sha256 else {
                    throw AuditChainBroken(
                        "\(name) was edited: its content hashes to \(computed.prefix(16))…, not the \(sha256.prefix(16))… recorded (\(stored.fields.action) on \(stored.fields.object.isEmpty ? "-" : stored.fields.object) by \(stored.fields.user))")
                }
                previous = sha256
                previousId = stored.id
                expected += 1
                after = stored.id
            }
        }
        let last = expected - 1
        guard head.sequence == last, head.sha256 == previous else {
            if head.sequence > last {
                throw AuditChainBroken(
                    "\(missing(last + 1, head.sequence)): the head names entry \(head.sequence), the log ends at entry \(last): the newest entries were deleted")
            }
            throw AuditChainBroken(
                "the audit head names entry \(head.sequence) (\(head.sha256.prefix(16))…), but the log ends at entry \(last) (\(previous.prefix(16))…): the head or the newest entry was changed")
        }
        try await verifyReceipts(sql, head: head)
        return AuditChainSummary(entries: last, headSha256: head.sha256, receipts: head.receiptSequence, receiptSha256: head.receiptSha256)
    }

    /// Checks the receipts against each other and against the log: each one as stored hashes to
    /// its recorded hash, follows the one before it, is signed by the registered key it names, and
    /// names an audit head that is in this log with the same hash — so a log rewritten after a
    /// receipt was issued (every hash recomputed) is found too. Then the head's newest receipt.
    private static func verifyReceipts(_ sql: any SQLDatabase, head: Head) async throws {
        let keys = Dictionary(
            try await sql.select().columns("key_id", "public_key").from("worker_keys").all().map {
                (try $0.decode(column: "key_id", as: String.self), try $0.decode(column: "public_key", as: String.self))
            }, uniquingKeysWith: { first, _ in first })
        var expected = 1
        var previous: String?
        while true {
            let rows = try await sql.select().columns("task_id", "seq", "sha256", "signer", "document").from("receipts")
                .where("seq", .greaterThanOrEqual, expected).orderBy("seq").limit(500).all()
            guard !rows.isEmpty else { break }
            for row in rows {
                let task = try row.decode(column: "task_id", as: String.self)
                let sequence = try row.decode(column: "seq", as: Int.self)
                let name = "receipt \(sequence) (task \(task))"
                guard sequence == expected else {
                    throw AuditChainBroken("\(missingReceipts(expected, sequence - 1)): the receipts go on with \(name): deleted")
                }
                let document = Array(try row.decode(column: "document", as: String.self).utf8)
                let recorded = try row.decode(column: "sha256", as: String.self)
                guard Hex.encode(SHA256.hash(data: document)) == recorded else {
                    throw AuditChainBroken("\(name) was edited: its document does not hash to the \(recorded.prefix(16))… recorded")
                }
                guard let body = try? JSONValue.parseCanonical(document)["receipt"], body["sequence"]?.integer == sequence,
                    body["task_id"]?.string == task
                else { throw AuditChainBroken("\(name) was edited: its document is not the receipt of that task and place") }
                guard body["previous_receipt_sha256"]?.string == previous else {
                    throw AuditChainBroken("\(name) does not follow the receipt before it: a receipt was deleted, inserted or reordered")
                }
                let signer = try row.decode(column: "signer", as: String.self)
                guard let key = keys[signer], let publicKey = try? Hex.decode(key) else {
                    throw AuditChainBroken("\(name) is signed by the key \(signer.prefix(16))…, which is not registered")
                }
                do {
                    _ = try ReceiptVerifier.verify(receipt: document, publicKey: publicKey)
                } catch {
                    throw AuditChainBroken("\(name): \(error)")
                }
                if let named = body["audit_head"]?["sequence"]?.integer, named > 0 {
                    let hash = try await sql.select().column("sha256").from("audit").where("seq", .equal, Int(named))
                        .first(decodingColumn: "sha256", as: String.self)
                    guard let hash, hash == body["audit_head"]?["sha256"]?.string else {
                        throw AuditChainBroken(
                            "\(name) names audit entry \(named) with the hash \(body["audit_head"]?["sha256"]?.string?.prefix(16) ?? "?")…, but the log's entry \(named) \(hash.map { "hashes to \($0.prefix(16))…" } ?? "is gone"): the log was rewritten after the receipt was issued")
                    }
                }
                previous = recorded
                expected += 1
            }
        }
        guard head.receiptSequence == expected - 1, head.receiptSha256 == previous else {
            if head.receiptSequence > expected - 1 {
                throw AuditChainBroken(
                    "\(missingReceipts(expected, head.receiptSequence)): the head names receipt \(head.receiptSequence), the receipts end at \(expected - 1): the newest were deleted")
            }
            throw AuditChainBroken("the head names receipt \(head.receiptSequence), but the receipts end at \(expected - 1): the head or the newest receipt was changed")
        }
    }
}

extension AuditChain {
    /// "audit entry 7 is missing", "audit entries 7–9 are missing".
    fileprivate static func missing(_ first: Int, _ last: Int) -> String {
        first == last ? "audit entry \(first) is missing" : "audit entries \(first)–\(last) are missing"
    }

    fileprivate static func missingReceipts(_ first: Int, _ last: Int) -> String {
        first == last ? "receipt \(first) is missing" : "receipts \(first)–\(last) are missing"
    }
}

/// What ``AuditChain/verify(_:)`` found in a chain that holds.
public struct AuditChainSummary: Sendable, Equatable {
    /// How many entries the log has (the newest one's sequence).
    public let entries: Int
    /// The newest entry's hash.
    public let headSha256: String
    /// How many receipts were issued, and the newest one's hash.
    public let receipts: Int
    public let receiptSha256: String?
}

/// The audit log's chain is broken: what is wrong, naming the entry.
public struct AuditChainBroken: Error, CustomStringConvertible, Equatable {
    public let description: String
    init(_ description: String) { self.description = description }
}

extension PlatformDatabase {
    /// Checks the audit log's hash chain and its head (``AuditChain``): how many entries and
    /// receipts it has, or ``AuditChainBroken`` naming the first entry that is wrong.
    public func verifyAuditChain() async throws -> AuditChainSummary {
        try await read { sql in try await AuditChain.verify(sql) }
    }
}
