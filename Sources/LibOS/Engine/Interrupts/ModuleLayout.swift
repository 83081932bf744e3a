import WasmParser

/// Where things are in a module's bytes: its sections, its function bodies and their loop heads.
struct ModuleLayout {
    struct Section {
        var id: UInt8
        var payload: Range<Int>
    }

    struct Body {
        /// The whole body (locals and instructions), without its size prefix.
        var range: Range<Int>
        /// The instructions, after the locals.
        var instructions: Range<Int>
        /// Offsets just after each `loop` instruction (and its block type).
        var loopHeads: [Int]
    }

    var sections: [Section] = []
    var bodies: [Body] = []
    var importedGlobalCount = 0
    var definedGlobalCount = 0
    var exportNames: Set<String> = []

    init(_ bytes: [UInt8]) throws {
        guard bytes.count >= 8, bytes[0..<4] == [0x00, 0x61, 0x73, 0x6d] else {
            throw InstrumentationError(message: "not a WebAssembly module")
        }
        var reader = ByteReader(bytes: bytes, position: 8)
        while reader.position < bytes.count {
            let id = try reader.byte()
            let size = Int(try reader.unsigned())
            let start = reader.position
            guard size <= bytes.count - start else { throw InstrumentationError(message: "section \(id) runs past the end") }
            sections.append(Section(id: id, payload: start..<start + size))
            if id == 10 {
                var bodyReader = ByteReader(bytes: bytes, position: start)
                let count = try bodyReader.unsigned()
                for _ in 0..<count {
                    let bodySize = Int(try bodyReader.unsigned())
                    let bodyStart = bodyReader.position
                    guard bodySize <= bytes.count - bodyStart else { throw InstrumentationError(message: "function body runs past the end") }
                    bodies.append(Body(range: bodyStart..<bodyStart + bodySize, instructions: bodyStart..<bodyStart + bodySize, loopHeads: []))
                    bodyReader.position = bodyStart + bodySize
                }
            }
            reader.position = start + size
        }

        // WasmParser finds the locals, the instruction boundaries and the loops.
        var parser = Parser(bytes: bytes)
        var codeIndex = 0
        while let payload = try parser.parseNext() {
            switch payload {
            case .importSection(let imports):
                importedGlobalCount = imports.filter { if case .global = $0.descriptor { return true } else { return false } }.count
            case .globalSection(let globals):
                definedGlobalCount = globals.count
            case .exportSection(let exports):
                exportNames = Set(exports.map(\.name))
            case .codeSection(let codes):
                for code in codes {
                    guard codeIndex < bodies.count else { throw InstrumentationError(message: "code count mismatch") }
                    let instructions = code.expression.startIndex..<code.expression.endIndex
                    guard bodies[codeIndex].range.contains(instructions.lowerBound) || instructions.isEmpty else {
                        throw InstrumentationError(message: "unexpected function body layout")
                    }
                    bodies[codeIndex].instructions = instructions
                    bodies[codeIndex].loopHeads = try ModuleLayout.loopHeads(of: code, expressionStart: instructions.lowerBound)
                    codeIndex += 1
                }
            default:
                break
            }
        }
    }

    private static func loopHeads(of code: Code, expressionStart: Int) throws -> [Int] {
        var parser = ExpressionParser(code: code)
        let base = parser.offset
        var finder = LoopFinder()
        var heads: [Int] = []
        while true {
            let position = parser.offset - base + expressionStart
            if finder.sawLoop {
                heads.append(position)
                finder.sawLoop = false
            }
            guard let visit = try parser.parse() else { break }
            try visit(visitor: &finder)
        }
        return heads
    }

    /// The canonical position of a known section id (custom sections excluded).
    static func order(of id: UInt8) -> Int {
        switch id {
        case 1: return 1
        case 2: return 2
        case 3: return 3
        case 4: return 4
        case 5: return 5
        case 13: return 6
        case 6: return 7
        case 7: return 8
        case 8: return 9
        case 9: return 10
        case 12: return 11
        case 10: return 12
        case 11: return 13
        default: return 0
        }
    }
}

/// Notes each `loop` the parser visits.
private struct LoopFinder: InstructionVisitor {
    typealias VisitorError = Never
    var binaryOffset = 0
    var sawLoop = false
    mutating func visitLoop(blockType: BlockType) { sawLoop = true }
}

/// Reads bytes and LEB128 numbers from a module.
struct ByteReader {
    let bytes: [UInt8]
    var position: Int

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw InstrumentationError(message: "unexpected end of module") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func unsigned() throws -> UInt32 {
        var result: UInt32 = 0
        var shift: UInt32 = 0
        while true {
            let next = try byte()
            if shift >= 32 || (shift == 28 && next & 0x70 != 0) { throw InstrumentationError(message: "malformed LEB128") }
            result |= UInt32(next & 0x7f) << shift
            if next & 0x80 == 0 { return result }
            shift += 7
        }
    }
}

/// Encodes LEB128 numbers.
enum LEB128 {
    static func unsigned(_ value: UInt32) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7f)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            out.append(byte)
        } while value != 0
        return out
    }
}
