/// Why guest code trapped, as both engines report it (each maps its own trap codes here, in
/// one place), and the signal a native program would die of for the same fault.
public enum TrapCause: Sendable, Equatable, CustomStringConvertible {
    case unreachable
    case stackOverflow
    case memoryOutOfBounds
    case tableOutOfBounds
    case indirectCallToNull
    case indirectCallTypeMismatch
    case integerDivisionByZero
    case integerOverflow
    case badConversionToInteger
    case nullReference
    case unalignedAtomic
    case atomicWaitOnNonSharedMemory
    /// A WebAssembly exception no handler caught.
    case uncaughtException
    /// The fuel backstop ran out (WasmKit only: a guest that escaped the interrupt checks).
    case outOfFuel
    /// Anything else, with the engine's words.
    case other(String)

    /// The signal a native program would die of.
    public var signal: Signal {
        switch self {
        case .unreachable, .uncaughtException: return .abort
        case .integerDivisionByZero, .integerOverflow, .badConversionToInteger: return Signal(rawValue: 8)  // SIGFPE
        case .outOfFuel: return .cpuLimit
        default: return .segmentationFault
        }
    }

    public var description: String {
        switch self {
        case .unreachable: return "unreachable"
        case .stackOverflow: return "call stack exhausted"
        case .memoryOutOfBounds: return "out of bounds memory access"
        case .tableOutOfBounds: return "out of bounds table access"
        case .indirectCallToNull: return "indirect call to null"
        case .indirectCallTypeMismatch: return "indirect call type mismatch"
        case .integerDivisionByZero: return "integer divide by zero"
        case .integerOverflow: return "integer overflow"
        case .badConversionToInteger: return "invalid conversion to integer"
        case .nullReference: return "null reference"
        case .unalignedAtomic: return "unaligned atomic"
        case .atomicWaitOnNonSharedMemory: return "memory.atomic.wait on a non-shared memory"
        case .uncaughtException: return "uncaught exception"
        case .outOfFuel: return "out of fuel"
        case .other(let text): return text
        }
    }
}
