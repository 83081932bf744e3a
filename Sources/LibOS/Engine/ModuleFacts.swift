import WasmKit
import WasmParser

/// What the kernel needs to know of a guest module before any engine instantiates it: its
/// imports (checked against the syscalls the kernel provides), its exported functions and their
/// types, its shared memory, and the memory and tables it asks for (charged to its budget).
///
/// Read once per module, with WasmParser (a parser, not an engine), so both engines see the
/// same facts.
struct ModuleFacts: Sendable {
    /// A function signature in the only terms an entry needs.
    struct Signature: Sendable, Equatable {
        var parameters: [ValueType]
        var results: [ValueType]
    }

    /// The shared memory a `wasm32-wasi-threads` program imports.
    struct SharedMemoryImport: Sendable {
        var module: String
        var name: String
        var limits: Limits
    }

    /// The features the parser accepts: a superset of what either engine runs, so that the
    /// engine's own validation, not the parser, decides what a guest may use.
    static let parserFeatures: WasmFeatureSet = [.referenceTypes, .exceptionHandling, .threads, .simd, .tailCall]

    private(set) var sharedMemory: SharedMemoryImport?
    /// The exported functions and their types.
    private(set) var exportedFunctions: [String: Signature] = [:]
    /// The memory the module defines (its first), if any.
    private(set) var definedMemory: Limits?
    /// Whether it exports a memory named `memory`.
    private(set) var exportsMemory = false
    /// The declared size of each table: (initial, maximum).
    private(set) var tables: [(initial: UInt64, maximum: UInt64?)] = []

    /// Reads the facts of `bytes`; `ENOEXEC` naming `path` when the module cannot be parsed or
    /// imports what the kernel does not provide.
    init(_ bytes: [UInt8], path: String) throws(Errno) {
        var types: [FunctionType?] = []
        var importedFunctionTypes: [TypeIndex] = []
        var definedFunctionTypes: [TypeIndex] = []
        var exports: [Export] = []
        var memories = 0
        var imports: [Import] = []
        var parser = Parser(bytes: bytes, features: Self.parserFeatures)
        do {
            while let payload = try parser.parseNext() {
                switch payload {
                case .typeSection(let groups):
                    types = groups.flatMap(\.types).map { type -> FunctionType? in
                        if case .function(let function) = type.body { return function }
                        return nil
                    }
                case .importSection(let list):
                    imports = list
                case .functionSection(let indices):
                    definedFunctionTypes = indices
                case .tableSection(let defined):
                    tables += defined.map { ($0.type.limits.min, $0.type.limits.max) }
                case .memorySection(let defined):
                    if definedMemory == nil { definedMemory = defined.first?.type }
                    memories += defined.count
                case .exportSection(let list):
                    exports = list
                default:
                    break
                }
            }
        } catch {
            throw Errno.noexec.with(reason: "\(path) is not a valid WebAssembly module: \(error)")
        }
        for entry in imports {
            let name = "\(entry.module).\(entry.name)"
            switch entry.descriptor {
            case .function(let type):
                guard SyscallTable.syscall(module: entry.module, name: entry.name) != nil else {
                    throw Errno.noexec.with(reason: "\(path) imports \(name), which Cloister does not provide")
                }
                importedFunctionTypes.append(type)
            case .memory(let limits):
                guard limits.shared, !limits.isMemory64, sharedMemory == nil else {
                    throw Errno.noexec.with(
                        reason: "\(path) imports memory \(name): only one shared wasm32 memory may be imported (wasm32-wasi-threads)")
                }
                sharedMemory = SharedMemoryImport(module: entry.module, name: entry.name, limits: limits)
                memories += 1
            default:
                throw Errno.noexec.with(reason: "\(path) imports \(name), which Cloister does not provide")
            }
        }
        let functionTypes = importedFunctionTypes + definedFunctionTypes
        for export in exports {
            switch export.descriptor {
            case .function(let index):
                guard Int(index) < functionTypes.count, Int(functionTypes[Int(index)]) < types.count,
                    let type = types[Int(functionTypes[Int(index)])]
                else { continue }
                exportedFunctions[export.name] = Signature(parameters: type.parameters, results: type.results)
            case .memory:
                if export.name == "memory" { exportsMemory = true }
            default:
                break
            }
        }
        if memories > 1 {
            throw Errno.noexec.with(reason: "\(path) has \(memories) memories; Cloister runs programs with one")
        }
    }

    /// The most elements each table may hold under the limits: as many as the largest table
    /// starts with, and at least ``minimumTableElements`` for tables that grow.
    var tableElementLimit: UInt64 {
        max(tables.map(\.initial).max() ?? 0, Self.minimumTableElements)
    }

    /// The room a table may grow to when every table starts small.
    static let minimumTableElements: UInt64 = 1024

    /// The host bytes one instance's tables may take at most, at `elementCost` bytes an element.
    func tableBytes(elementCost: Int) -> UInt64 {
        let (elements, overflow) = UInt64(tables.count).multipliedReportingOverflow(by: tableElementLimit)
        let (bytes, overflow2) = elements.multipliedReportingOverflow(by: UInt64(elementCost))
        return overflow || overflow2 ? .max : bytes
    }
}

extension ModuleFacts: Codable {
    /// The facts as the artifact cache keeps them beside a compiled program (its index), so a
    /// program loaded again in another process need not be read and parsed at all. Value types
    /// are kept by name; what is not a number is kept as `ref`, which equals no entry's type.
    private struct Record: Codable {
        var sharedMemory: [String]?
        var sharedMemoryLimits: [UInt64]?
        var exportedFunctions: [String: [[String]]]
        var definedMemory: [UInt64]?
        var definedMemory64: Bool
        var exportsMemory: Bool
        var tables: [[UInt64]]
    }

    private static func name(_ type: ValueType) -> String {
        switch type {
        case .i32: return "i32"
        case .i64: return "i64"
        case .f32: return "f32"
        case .f64: return "f64"
        case .v128: return "v128"
        case .ref: return "ref"
        }
    }

    private static func type(_ name: String) -> ValueType {
        switch name {
        case "i32": return .i32
        case "i64": return .i64
        case "f32": return .f32
        case "f64": return .f64
        case "v128": return .v128
        default: return .ref(.externRef)
        }
    }

    func encode(to encoder: any Encoder) throws {
        let record = Record(
            sharedMemory: sharedMemory.map { [$0.module, $0.name] },
            sharedMemoryLimits: sharedMemory.map { [$0.limits.min] + ($0.limits.max.map { [$0] } ?? []) },
            exportedFunctions: exportedFunctions.mapValues { [$0.parameters.map(Self.name), $0.results.map(Self.name)] },
            definedMemory: definedMemory.map { [$0.min] + ($0.max.map { [$0] } ?? []) },
            definedMemory64: definedMemory?.isMemory64 ?? false,
            exportsMemory: exportsMemory,
            tables: tables.map { [$0.initial] + ($0.maximum.map { [$0] } ?? []) })
        try record.encode(to: encoder)
    }

    init(from decoder: any Decoder) throws {
        let record = try Record(from: decoder)
        if let names = record.sharedMemory, names.count == 2, let limits = record.sharedMemoryLimits, let minimum = limits.first {
            sharedMemory = SharedMemoryImport(module: names[0], name: names[1], limits: Limits(min: minimum, max: limits.dropFirst().first, shared: true))
        }
        exportedFunctions = record.exportedFunctions.compactMapValues { types in
            types.count == 2 ? Signature(parameters: types[0].map(Self.type), results: types[1].map(Self.type)) : nil
        }
        if let memory = record.definedMemory, let minimum = memory.first {
            definedMemory = Limits(min: minimum, max: memory.dropFirst().first, isMemory64: record.definedMemory64)
        }
        exportsMemory = record.exportsMemory
        tables = record.tables.compactMap { sizes in sizes.first.map { ($0, sizes.dropFirst().first) } }
    }
}
