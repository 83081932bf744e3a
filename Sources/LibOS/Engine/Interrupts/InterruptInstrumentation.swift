import WasmParser

/// Rewrites a guest module once, at load time, so the kernel can stop it whatever it is doing.
///
/// WasmKit has no safe cross-thread interrupt (see DESIGN.md), so the LibOS builds its own: the
/// rewriter appends two mutable `i32` globals — appended, so no existing index shifts — and
/// exports them as ``exportName`` and ``waitAddressExportName``. At the head of every loop, and
/// at the entry of every function that calls others, it inserts
///
///     global.get $interrupt
///     if
///       unreachable
///     end
///
/// A function that calls nothing needs no entry check: it either returns or reaches one of its
/// own loop heads, so every unbounded execution passes a check. A small innermost loop is
/// unrolled first (``LoopUnrolling``), so that its head, and the check, come once every few
/// iterations.
///
/// Only the kernel writes the flag (through the export, which guests cannot reach: the
/// original code was validated before the globals existed, so no guest instruction names them).
/// When the kernel must end a process (a kill, an exit_group, a limit), it sets the flag; the
/// guest traps at its next check (a loop head or a function entry), and the runner reports the
/// process's status instead of the trap.
///
/// A thread may also be parked in `memory.atomic.wait`, which runs no guest code. Each wait is
/// preceded by a store of its effective address into the second global, so the kernel knows
/// where to `memory.atomic.notify` the thread awake (see ``AtomicWaitWaker``).
public enum InterruptInstrumentation {
    /// The export through which the kernel sets the interrupt flag.
    public static let exportName = "cloister.interrupt"
    /// The export from which the kernel reads the address a thread last waited on.
    public static let waitAddressExportName = "cloister.wait_address"

    /// Returns `bytes` instrumented, or throws the parser's error for a malformed module.
    public static func instrument(_ bytes: [UInt8]) throws -> [UInt8] {
        let layout = try ModuleLayout(bytes)
        for name in [exportName, waitAddressExportName] where layout.exportNames.contains(name) {
            throw InstrumentationError(message: "the module already exports \(name)")
        }
        let flagIndex = UInt32(layout.importedGlobalCount + layout.definedGlobalCount)
        let waitAddressIndex = flagIndex + 1
        let check: [UInt8] = [0x23] + LEB128.unsigned(flagIndex) + [0x04, 0x40, 0x00, 0x0b]

        var output = Array(bytes[0..<8])
        var insertedGlobal = false
        var insertedExport = false
        func appendSection(_ id: UInt8, _ payload: [UInt8]) {
            output.append(id)
            output += LEB128.unsigned(UInt32(payload.count))
            output += payload
        }
        let globalEntry: [UInt8] = [0x7f, 0x01, 0x41, 0x00, 0x0b] + [0x7f, 0x01, 0x41, 0x00, 0x0b]  // 2 × (mut i32) (i32.const 0)
        func export(_ name: String, _ index: UInt32) -> [UInt8] {
            LEB128.unsigned(UInt32(name.utf8.count)) + Array(name.utf8) + [0x03] + LEB128.unsigned(index)
        }
        let exportEntry = export(exportName, flagIndex) + export(waitAddressExportName, waitAddressIndex)

        for section in layout.sections {
            // A module with no global or export section gets one, in the canonical order.
            if !insertedGlobal, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 6) {
                appendSection(6, LEB128.unsigned(2) + globalEntry)
                insertedGlobal = true
            }
            if !insertedExport, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 7) {
                appendSection(7, LEB128.unsigned(2) + exportEntry)
                insertedExport = true
            }
            let payload = bytes[section.payload]
            switch section.id {
            case 6:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(6, LEB128.unsigned(count + 2) + bytes[reader.position..<section.payload.upperBound] + globalEntry)
                insertedGlobal = true
            case 7:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(7, LEB128.unsigned(count + 2) + bytes[reader.position..<section.payload.upperBound] + exportEntry)
                insertedExport = true
            case 10:
                appendSection(10, try instrumentCode(bytes, bodies: layout.bodies, check: check, waitAddressIndex: waitAddressIndex))
            default:
                appendSection(section.id, Array(payload))
            }
        }
        if !insertedGlobal { appendSection(6, LEB128.unsigned(2) + globalEntry) }
        if !insertedExport { appendSection(7, LEB128.unsigned(2) + exportEntry) }
        return output
    }

    private static func instrumentCode(_ bytes: [UInt8], bodies: [ModuleLayout.Body], check: [UInt8], waitAddressIndex: UInt32) throws -> [UInt8] {
        var payload = LEB128.unsigned(UInt32(bodies.count))
        for body in bodies {
            var newBody: [UInt8]
            var waitLocals: UInt32 = 0
            if body.atomicWaits.isEmpty {
                newBody = Array(bytes[body.range.lowerBound..<body.instructions.lowerBound])
            } else {
                // Four locals for the operands of a wait: address (i32), expected (i32 and i64
                // forms) and timeout (i64), appended after the declared ones.
                let locals = try ModuleLayout.declaredLocals(bytes, body: body)
                waitLocals = UInt32(UInt64(body.parameterCount) + locals.count)
                newBody = LEB128.unsigned(locals.groups + 2) + bytes[locals.groupsStart..<body.instructions.lowerBound]
                newBody += [0x02, 0x7f, 0x02, 0x7e]  // 2 × i32, 2 × i64
            }
            // Small innermost loops are unrolled with one check at their head; every other loop
            // gets the check at its head.
            var edits: [(at: Int, replacing: Int, with: [UInt8])] = []
            var unrolledHeads: Set<Int> = []
            for loop in body.innermostLoops {
                let copies = LoopUnrolling.copies(forBodyOfSize: loop.body.count)
                guard copies > 1 else { continue }
                edits.append((loop.range.lowerBound, loop.range.count, LoopUnrolling.unrolled(loop, in: bytes, copies: copies, check: check)))
                unrolledHeads.insert(loop.body.lowerBound)
            }
            for head in body.loopHeads where !unrolledHeads.contains(head) {
                edits.append((head, 0, check))
            }
            for wait in body.atomicWaits {
                edits.append((wait.range.lowerBound, 0, waitPrologue(wait, firstLocal: waitLocals, waitAddressIndex: waitAddressIndex)))
            }
            // An insertion goes before a replacement at the same offset: an outer loop whose body
            // starts with an unrolled inner loop has its head exactly where the inner loop starts.
            edits.sort { ($0.at, $0.replacing) < ($1.at, $1.replacing) }
            var position = body.instructions.lowerBound
            if body.makesCalls { newBody += check }  // function entry
            for edit in edits {
                guard edit.at >= position else {
                    throw InstrumentationError(message: "overlapping rewrites at offset \(edit.at)")
                }
                newBody += bytes[position..<edit.at]
                newBody += edit.with
                position = edit.at + edit.replacing
            }
            newBody += bytes[position..<body.instructions.upperBound]
            payload += LEB128.unsigned(UInt32(newBody.count))
            payload += newBody
        }
        return payload
    }

    /// Saves a wait's operands in the wait locals, records its effective address in the
    /// wait-address global, and puts the operands back for the wait itself.
    private static func waitPrologue(_ wait: ModuleLayout.AtomicWait, firstLocal: UInt32, waitAddressIndex: UInt32) -> [UInt8] {
        let address = LEB128.unsigned(firstLocal)
        let expected = LEB128.unsigned(wait.is64 ? firstLocal + 2 : firstLocal + 1)
        let timeout = LEB128.unsigned(firstLocal + 3)
        var code: [UInt8] = []
        code += [0x21] + timeout  // local.set timeout
        code += [0x21] + expected  // local.set expected
        code += [0x22] + address  // local.tee address
        code += [0x41] + LEB128.signed(Int32(truncatingIfNeeded: wait.offset)) + [0x6a]  // i32.const offset; i32.add
        code += [0x24] + LEB128.unsigned(waitAddressIndex)  // global.set wait_address
        code += [0x20] + address + [0x20] + expected + [0x20] + timeout
        return code
    }
}

/// A module the instrumenter cannot rewrite.
public struct InstrumentationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
