import WasmParser

/// How a program is rewritten before its engine compiles it (``InterruptInstrumentation``).
public enum InstrumentationStyle: Sendable, Hashable {
    /// For an engine with no safe cross-thread interrupt (WasmKit): an interrupt flag only the
    /// kernel writes, tested at every loop head and at the entry of every function that calls.
    case interruptFlag
    /// For an engine that checks for interrupts at loop heads and function entries itself
    /// (wasmtime's epochs): no flag, no inserted checks.
    case engineChecks
}

/// Rewrites a guest module once, at load time, so the kernel can stop it whatever it is doing.
///
/// Every style makes three changes:
/// - **The start function** is no longer run by instantiation: the start section is removed and
///   the function is exported as ``startExportName``, which the kernel calls once the thread can
///   be interrupted (a start function that spins is killed like any other code).
/// - **Small innermost loops are unrolled** (``LoopUnrolling``), so that a loop head — where the
///   interrupt check is — comes once every few iterations instead of every one.
/// - **`memory.atomic.wait` is sliced**: a wait waits at most ``atomicWaitSlice`` at a time, in a
///   loop that waits again until its own timeout has passed, so a thread parked in a wait passes a
///   loop head (an interrupt check) at least that often. What the guest sees is unchanged but for
///   one case: a wait whose value changed without a notify answers "not-equal" at the next slice
///   instead of sleeping on (a spurious wake-up, which futex users loop on anyway).
///
/// The ``InstrumentationStyle/interruptFlag`` style also appends a mutable `i32` global —
/// appended, so no existing index shifts —, exports it as ``flagExportName``, and inserts
///
///     global.get $interrupt
///     if
///       unreachable
///     end
///
/// at the head of every loop (the unrolled ones included) and at the entry of every function that
/// calls others. A function that calls nothing needs no entry check: it either returns or reaches
/// one of its own loop heads, so every unbounded execution passes a check. Only the kernel writes
/// the flag (through the export, which guests cannot reach: the original code was validated
/// before the global existed, so no guest instruction names it). When the kernel must end a
/// process it sets the flag; the guest traps at its next check, and the kernel reports the
/// process's status instead of the trap.
public enum InterruptInstrumentation {
    /// The export through which the kernel sets the interrupt flag (``InstrumentationStyle/interruptFlag``).
    public static let flagExportName = "cloister.interrupt"
    /// The export of the module's start function, which the kernel runs after instantiation.
    public static let startExportName = "cloister.start"
    /// The rewrite's revision: part of the name of every compiled artifact (artifacts are named by
    /// the module the guest supplied), so bump it whenever the rewrite changes.
    static let revision = 2
    /// The longest a `memory.atomic.wait` waits before passing an interrupt check: the most a
    /// kill waits for a thread parked in one.
    public static let atomicWaitSlice: Int64 = 10_000_000

    /// Returns `bytes` instrumented in `style`, or throws for a module it cannot rewrite.
    public static func instrument(_ bytes: [UInt8], style: InstrumentationStyle) throws -> [UInt8] {
        let layout = try ModuleLayout(bytes)
        for name in [flagExportName, startExportName] where layout.exportNames.contains(name) {
            throw InstrumentationError(message: "the module already exports \(name)")
        }
        let flagIndex: UInt32? = style == .interruptFlag ? UInt32(layout.importedGlobalCount + layout.definedGlobalCount) : nil
        let check: [UInt8] = flagIndex.map { [0x23] + LEB128.unsigned($0) + [0x04, 0x40, 0x00, 0x0b] } ?? []

        var newGlobals: [UInt8] = []
        var newExports: [[UInt8]] = []
        func export(_ name: String, kind: UInt8, _ index: UInt32) -> [UInt8] {
            LEB128.unsigned(UInt32(name.utf8.count)) + Array(name.utf8) + [kind] + LEB128.unsigned(index)
        }
        if let flagIndex {
            newGlobals = [0x7f, 0x01, 0x41, 0x00, 0x0b]  // (mut i32) (i32.const 0)
            newExports.append(export(flagExportName, kind: 0x03, flagIndex))
        }
        if let start = layout.startFunction {
            newExports.append(export(startExportName, kind: 0x00, start))
        }

        var output = Array(bytes[0..<8])
        var insertedGlobal = newGlobals.isEmpty
        var insertedExport = newExports.isEmpty
        func appendSection(_ id: UInt8, _ payload: [UInt8]) {
            output.append(id)
            output += LEB128.unsigned(UInt32(payload.count))
            output += payload
        }
        for section in layout.sections {
            // A module with no global or export section gets one, in the canonical order.
            if !insertedGlobal, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 6) {
                appendSection(6, LEB128.unsigned(1) + newGlobals)
                insertedGlobal = true
            }
            if !insertedExport, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 7) {
                appendSection(7, LEB128.unsigned(UInt32(newExports.count)) + newExports.joined())
                insertedExport = true
            }
            switch section.id {
            case 6 where !newGlobals.isEmpty:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(6, LEB128.unsigned(count + 1) + bytes[reader.position..<section.payload.upperBound] + newGlobals)
                insertedGlobal = true
            case 7 where !newExports.isEmpty:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(
                    7, LEB128.unsigned(count + UInt32(newExports.count)) + bytes[reader.position..<section.payload.upperBound] + newExports.joined())
                insertedExport = true
            case 8:
                break  // the start section: its function is exported instead
            case 10:
                appendSection(10, try instrumentCode(bytes, bodies: layout.bodies, check: check))
            default:
                appendSection(section.id, Array(bytes[section.payload]))
            }
        }
        if !insertedGlobal { appendSection(6, LEB128.unsigned(1) + newGlobals) }
        if !insertedExport { appendSection(7, LEB128.unsigned(UInt32(newExports.count)) + newExports.joined()) }
        return output
    }

    private static func instrumentCode(_ bytes: [UInt8], bodies: [ModuleLayout.Body], check: [UInt8]) throws -> [UInt8] {
        var payload = LEB128.unsigned(UInt32(bodies.count))
        for body in bodies {
            var newBody: [UInt8]
            var waitLocals: UInt32 = 0
            if body.atomicWaits.isEmpty {
                newBody = Array(bytes[body.range.lowerBound..<body.instructions.lowerBound])
            } else {
                // Five locals for a sliced wait, appended after the declared ones: address,
                // expected (i32 form) and result (i32), expected (i64 form) and timeout (i64).
                let locals = try ModuleLayout.declaredLocals(bytes, body: body)
                waitLocals = UInt32(UInt64(body.parameterCount) + locals.count)
                newBody = LEB128.unsigned(locals.groups + 2) + bytes[locals.groupsStart..<body.instructions.lowerBound]
                newBody += [0x03, 0x7f, 0x02, 0x7e]  // 3 × i32, 2 × i64
            }
            var edits: [(at: Int, replacing: Int, with: [UInt8])] = []
            var unrolledHeads: Set<Int> = []
            for loop in body.innermostLoops {
                let copies = LoopUnrolling.copies(forBodyOfSize: loop.body.count)
                guard copies > 1 else { continue }
                edits.append((loop.range.lowerBound, loop.range.count, LoopUnrolling.unrolled(loop, in: bytes, copies: copies, check: check)))
                unrolledHeads.insert(loop.body.lowerBound)
            }
            if !check.isEmpty {
                for head in body.loopHeads where !unrolledHeads.contains(head) {
                    edits.append((head, 0, check))
                }
            }
            for wait in body.atomicWaits {
                edits.append((wait.range.lowerBound, wait.range.count, slicedWait(wait, in: bytes, firstLocal: waitLocals, check: check)))
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

    /// The code that replaces one `memory.atomic.wait32/64`: it takes the same operands
    /// (address, expected, timeout) and leaves the same result, but waits at most
    /// ``atomicWaitSlice`` at a time:
    ///
    ///     local.set $timeout  local.set $expected  local.set $address
    ///     block
    ///       loop
    ///         <check>
    ///         (wait $address $expected (select $timeout SLICE (i64.lt_u $timeout SLICE)))
    ///         local.tee $result
    ///         br_if 1 (i32.ne (…) 2)              ;; woken or not-equal: done
    ///         br_if 0 (i64.lt_s $timeout 0)       ;; no timeout: wait again
    ///         br_if 0 (i64.gt_s (local.tee $timeout (i64.sub $timeout SLICE)) 0)
    ///       end
    ///     end
    ///     local.get $result
    private static func slicedWait(_ wait: ModuleLayout.AtomicWait, in bytes: [UInt8], firstLocal: UInt32, check: [UInt8]) -> [UInt8] {
        let address = LEB128.unsigned(firstLocal)
        let expected = LEB128.unsigned(wait.is64 ? firstLocal + 3 : firstLocal + 1)
        let result = LEB128.unsigned(firstLocal + 2)
        let timeout = LEB128.unsigned(firstLocal + 4)
        let slice = [0x42] + LEB128.signed64(atomicWaitSlice)
        var code: [UInt8] = []
        code += [0x21] + timeout + [0x21] + expected + [0x21] + address
        code += [0x02, 0x40, 0x03, 0x40] + check
        code += [0x20] + address + [0x20] + expected
        code += [0x20] + timeout + slice + [0x20] + timeout + slice + [0x54, 0x1b]  // i64.lt_u; select
        code += bytes[wait.range]
        code += [0x22] + result + [0x41, 0x02, 0x47, 0x0d, 0x01]  // local.tee; i32.const 2; i32.ne; br_if 1
        code += [0x20] + timeout + [0x42, 0x00, 0x53, 0x0d, 0x00]  // i64.const 0; i64.lt_s; br_if 0
        code += [0x20] + timeout + slice + [0x7d, 0x22] + timeout + [0x42, 0x00, 0x55, 0x0d, 0x00]  // sub; tee; gt_s; br_if 0
        code += [0x0b, 0x0b, 0x20] + result
        return code
    }
}

/// A module the instrumenter cannot rewrite.
public struct InstrumentationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
