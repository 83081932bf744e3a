import WasmParser

/// Rewrites a guest module once, at load time, so the kernel can stop it whatever it is doing.
///
/// WasmKit has no safe cross-thread interrupt (see DESIGN.md), so the LibOS builds its own: the
/// rewriter appends one mutable `i32` global — appended, so no existing index shifts — exports it
/// as ``exportName``, and inserts at every function entry and at the head of every loop
///
///     global.get $interrupt
///     if
///       unreachable
///     end
///
/// Only the kernel writes the global (through the export, which guests cannot reach: the
/// original code was validated before the global existed, so no guest instruction names it).
/// When the kernel must end a process (a kill), it sets the flag; the guest traps at its next
/// loop iteration or call, and the runner reports the pending signal instead of the trap.
public enum InterruptInstrumentation {
    /// The export through which the kernel sets the interrupt flag.
    public static let exportName = "cloister.interrupt"

    /// Returns `bytes` instrumented, or throws the parser's error for a malformed module.
    public static func instrument(_ bytes: [UInt8]) throws -> [UInt8] {
        let layout = try ModuleLayout(bytes)
        if layout.exportNames.contains(exportName) {
            throw InstrumentationError(message: "the module already exports \(exportName)")
        }
        let flagIndex = UInt32(layout.importedGlobalCount + layout.definedGlobalCount)
        let check: [UInt8] = [0x23] + LEB128.unsigned(flagIndex) + [0x04, 0x40, 0x00, 0x0b]

        var output = Array(bytes[0..<8])
        var insertedGlobal = false
        var insertedExport = false
        func appendSection(_ id: UInt8, _ payload: [UInt8]) {
            output.append(id)
            output += LEB128.unsigned(UInt32(payload.count))
            output += payload
        }
        let globalEntry: [UInt8] = [0x7f, 0x01, 0x41, 0x00, 0x0b]  // (mut i32) (i32.const 0)
        let exportEntry: [UInt8] = LEB128.unsigned(UInt32(exportName.utf8.count)) + Array(exportName.utf8) + [0x03] + LEB128.unsigned(flagIndex)

        for section in layout.sections {
            // A module with no global or export section gets one, in the canonical order.
            if !insertedGlobal, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 6) {
                appendSection(6, LEB128.unsigned(1) + globalEntry)
                insertedGlobal = true
            }
            if !insertedExport, section.id != 0, ModuleLayout.order(of: section.id) > ModuleLayout.order(of: 7) {
                appendSection(7, LEB128.unsigned(1) + exportEntry)
                insertedExport = true
            }
            let payload = bytes[section.payload]
            switch section.id {
            case 6:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(6, LEB128.unsigned(count + 1) + bytes[reader.position..<section.payload.upperBound] + globalEntry)
                insertedGlobal = true
            case 7:
                var reader = ByteReader(bytes: bytes, position: section.payload.lowerBound)
                let count = try reader.unsigned()
                appendSection(7, LEB128.unsigned(count + 1) + bytes[reader.position..<section.payload.upperBound] + exportEntry)
                insertedExport = true
            case 10:
                appendSection(10, try instrumentCode(bytes, section: section.payload, bodies: layout.bodies, check: check))
            default:
                appendSection(section.id, Array(payload))
            }
        }
        if !insertedGlobal { appendSection(6, LEB128.unsigned(1) + globalEntry) }
        if !insertedExport { appendSection(7, LEB128.unsigned(1) + exportEntry) }
        return output
    }

    private static func instrumentCode(_ bytes: [UInt8], section: Range<Int>, bodies: [ModuleLayout.Body], check: [UInt8]) throws -> [UInt8] {
        var payload = LEB128.unsigned(UInt32(bodies.count))
        for body in bodies {
            var newBody = Array(bytes[body.range.lowerBound..<body.instructions.lowerBound])
            var position = body.instructions.lowerBound
            newBody += check  // function entry
            for insertion in body.loopHeads {
                newBody += bytes[position..<insertion]
                newBody += check
                position = insertion
            }
            newBody += bytes[position..<body.instructions.upperBound]
            payload += LEB128.unsigned(UInt32(newBody.count))
            payload += newBody
        }
        return payload
    }
}

/// A module the instrumenter cannot rewrite.
public struct InstrumentationError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
