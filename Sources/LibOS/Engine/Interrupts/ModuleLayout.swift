import WasmParser
import typealias WasmKit.ReferenceType

/// Where things are in a module's bytes: its sections, its function bodies, their loop heads and
/// the innermost loops small enough to unroll.
struct ModuleLayout {
    /// The largest loop body (in bytes, without its `loop` and `end`) the instrumenter unrolls.
    static let largestUnrolledBody = 256
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
        var loopHeads: [Int] = []
        /// Whether the body calls any function (a leaf function needs no entry check: it ends
        /// or reaches one of its own loop heads).
        var makesCalls = false
        /// The `memory.atomic.wait32/64` instructions.
        var atomicWaits: [AtomicWait] = []
        /// The number of parameters of the function.
        var parameterCount = 0
        /// The innermost loops that may be unrolled (see ``InnermostLoop``), in order.
        var innermostLoops: [InnermostLoop] = []
    }

    /// A loop that contains no other loop and no call, whose branches the instrumenter knows how
    /// to retarget: its body has no `try_table`, no `br_on_*`, no atomic wait, its block type
    /// takes no parameters, and it is at most ``largestUnrolledBody`` bytes.
    struct InnermostLoop {
        /// From the `loop` opcode to just after its `end`.
        var range: Range<Int>
        /// The block type's bytes, after the opcode.
        var blockType: Range<Int>
        /// The instructions between the block type and the `end`.
        var body: Range<Int>
        /// Every `br`, `br_if` and `br_table` in the body.
        var branches: [Branch]
    }

    /// A branch inside an ``InnermostLoop``.
    struct Branch {
        enum Kind { case br, brIf, brTable }
        var range: Range<Int>
        var kind: Kind
        /// The relative depths; for `br_table`, its labels and then its default.
        var depths: [UInt32]
        /// How many blocks are open inside the loop's body around the branch: a depth equal to
        /// it names the loop, a larger one a label outside it.
        var nesting: UInt32
    }

    /// One `memory.atomic.wait` instruction in a body.
    struct AtomicWait {
        var range: Range<Int>
        var is64: Bool
    }

    var sections: [Section] = []
    var bodies: [Body] = []
    var importedGlobalCount = 0
    var definedGlobalCount = 0
    var exportNames: Set<String> = []
    /// The function the start section names, if any.
    var startFunction: UInt32?

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
        var parser = Parser(bytes: bytes, features: ModuleFacts.parserFeatures)
        var codeIndex = 0
        var parameterCounts: [Int] = []
        var functionTypes: [TypeIndex] = []
        while let payload = try parser.parseNext() {
            switch payload {
            case .typeSection(let groups):
                parameterCounts = groups.flatMap(\.types).map { type in
                    if case .function(let function) = type.body { return function.parameters.count }
                    return 0
                }
            case .functionSection(let indices):
                functionTypes = indices
            case .importSection(let imports):
                importedGlobalCount = imports.filter { if case .global = $0.descriptor { return true } else { return false } }.count
            case .globalSection(let globals):
                definedGlobalCount = globals.count
            case .exportSection(let exports):
                exportNames = Set(exports.map(\.name))
            case .startSection(let index):
                startFunction = index
            case .codeSection(let codes):
                for code in codes {
                    guard codeIndex < bodies.count else { throw InstrumentationError(message: "code count mismatch") }
                    let instructions = code.expression.startIndex..<code.expression.endIndex
                    guard bodies[codeIndex].range.contains(instructions.lowerBound) || instructions.isEmpty else {
                        throw InstrumentationError(message: "unexpected function body layout")
                    }
                    bodies[codeIndex].instructions = instructions
                    try ModuleLayout.scan(code, expressionStart: instructions.lowerBound, into: &bodies[codeIndex])
                    if codeIndex < functionTypes.count, Int(functionTypes[codeIndex]) < parameterCounts.count {
                        bodies[codeIndex].parameterCount = parameterCounts[Int(functionTypes[codeIndex])]
                    }
                    codeIndex += 1
                }
            default:
                break
            }
        }
    }

    /// Finds the loop heads, calls, atomic waits and unrollable innermost loops of one body.
    private static func scan(_ code: Code, expressionStart: Int, into body: inout Body) throws {
        /// A block, loop, if or try_table not yet ended.
        struct OpenBlock {
            /// The offset of its opening instruction, and just after it (and its block type).
            var start: Int
            var bodyStart: Int
            var isLoop: Bool
            /// For a loop: whether it may still be unrolled.
            var unrollable: Bool
            var branches: [Branch] = []
        }
        var parser = ExpressionParser(code: code)
        let base = parser.offset
        var finder = InstructionFinder()
        var open: [OpenBlock] = []
        var innermostLoop: Int? { open.lastIndex(where: \.isLoop) }
        func disqualifyInnermostLoop() {
            if let index = innermostLoop { open[index].unrollable = false }
        }
        while true {
            let start = parser.offset - base + expressionStart
            guard let visit = try parser.parse() else { break }
            visit(visitor: &finder)
            let end = parser.offset - base + expressionStart
            if let wait = finder.sawAtomicWait {
                body.atomicWaits.append(AtomicWait(range: start..<end, is64: wait))
                disqualifyInnermostLoop()
            }
            switch finder.event {
            case .other:
                break
            case .foreignLabel:
                disqualifyInnermostLoop()
            case .call:
                body.makesCalls = true
                // A call costs more dispatches than the check: unrolling would only grow the code.
                disqualifyInnermostLoop()
            case .open(let isLoop, let blockType, let isTryTable):
                if isTryTable { disqualifyInnermostLoop() }
                if isLoop {
                    body.loopHeads.append(end)
                    disqualifyInnermostLoop()  // it contains a loop
                    let takesNoParameters = blockType == .empty || { if case .type = blockType { true } else { false } }()
                    open.append(OpenBlock(start: start, bodyStart: end, isLoop: true, unrollable: takesNoParameters))
                } else {
                    open.append(OpenBlock(start: start, bodyStart: end, isLoop: false, unrollable: false))
                }
            case .end:
                guard let block = open.popLast() else { break }  // the function's own end
                if block.isLoop, block.unrollable, start - block.bodyStart <= largestUnrolledBody {
                    body.innermostLoops.append(InnermostLoop(
                        range: block.start..<end, blockType: block.start + 1..<block.bodyStart,
                        body: block.bodyStart..<start, branches: block.branches))
                }
            case .branch(let kind, let depths):
                if let index = innermostLoop, open[index].unrollable {
                    let nesting = UInt32(open.count - 1 - index)
                    open[index].branches.append(Branch(range: start..<end, kind: kind, depths: depths, nesting: nesting))
                }
            }
            finder.event = .other
            finder.sawAtomicWait = nil
        }
    }

    /// The number of locals a body declares, and where its local declarations end.
    static func declaredLocals(_ bytes: [UInt8], body: Body) throws -> (groups: UInt32, count: UInt64, groupsStart: Int) {
        var reader = ByteReader(bytes: bytes, position: body.range.lowerBound)
        let groups = try reader.unsigned()
        let groupsStart = reader.position
        var count: UInt64 = 0
        for _ in 0..<groups {
            count += UInt64(try reader.unsigned())
            _ = try reader.byte()
        }
        return (groups, count, groupsStart)
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

/// Notes the blocks, branches, calls and atomic waits the parser visits.
private struct InstructionFinder: InstructionVisitor {
    /// What the instruction just visited means to the scan.
    enum Event {
        case other
        /// A `block`, `loop`, `if` or `try_table`.
        case open(isLoop: Bool, blockType: BlockType, isTryTable: Bool)
        case end
        case branch(ModuleLayout.Branch.Kind, [UInt32])
        /// An instruction with a label the unroller does not retarget (`br_on_*`).
        case foreignLabel
        case call
    }
    typealias VisitorError = Never
    var binaryOffset = 0
    var event = Event.other
    /// Whether the instruction just visited was a `memory.atomic.wait`, and which width.
    var sawAtomicWait: Bool?
    mutating func visitBlock(blockType: BlockType) { event = .open(isLoop: false, blockType: blockType, isTryTable: false) }
    mutating func visitLoop(blockType: BlockType) { event = .open(isLoop: true, blockType: blockType, isTryTable: false) }
    mutating func visitIf(blockType: BlockType) { event = .open(isLoop: false, blockType: blockType, isTryTable: false) }
    mutating func visitTryTable(blockType: BlockType, tryCatch: TryCatch) { event = .open(isLoop: false, blockType: blockType, isTryTable: true) }
    mutating func visitEnd() { event = .end }
    mutating func visitBr(relativeDepth: UInt32) { event = .branch(.br, [relativeDepth]) }
    mutating func visitBrIf(relativeDepth: UInt32) { event = .branch(.brIf, [relativeDepth]) }
    mutating func visitBrTable(targets: BrTable) { event = .branch(.brTable, targets.labelIndices + [targets.defaultIndex]) }
    mutating func visitBrOnNull(relativeDepth: UInt32) { event = .foreignLabel }
    mutating func visitBrOnNonNull(relativeDepth: UInt32) { event = .foreignLabel }
    mutating func visitBrOnCast(relativeDepth: UInt32, castFrom: ReferenceType, castTo: ReferenceType) { event = .foreignLabel }
    mutating func visitBrOnCastFail(relativeDepth: UInt32, castFrom: ReferenceType, castTo: ReferenceType) { event = .foreignLabel }
    mutating func visitCall(functionIndex: UInt32) { event = .call }
    mutating func visitCallIndirect(typeIndex: UInt32, tableIndex: UInt32) { event = .call }
    mutating func visitReturnCall(functionIndex: UInt32) { event = .call }
    mutating func visitReturnCallIndirect(typeIndex: UInt32, tableIndex: UInt32) { event = .call }
    mutating func visitCallRef(typeIndex: UInt32) { event = .call }
    mutating func visitReturnCallRef(typeIndex: UInt32) { event = .call }
    mutating func visitMemoryAtomicWait32(memarg: MemArg) { sawAtomicWait = false }
    mutating func visitMemoryAtomicWait64(memarg: MemArg) { sawAtomicWait = true }
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
    static func signed64(_ value: Int64) -> [UInt8] {
        var value = value
        var out: [UInt8] = []
        while true {
            let byte = UInt8(truncatingIfNeeded: value) & 0x7f
            value >>= 7
            let done = (value == 0 && byte & 0x40 == 0) || (value == -1 && byte & 0x40 != 0)
            out.append(done ? byte : byte | 0x80)
            if done { return out }
        }
    }

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
