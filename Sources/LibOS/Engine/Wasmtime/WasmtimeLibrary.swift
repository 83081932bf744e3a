import CWasmtime
import Foundation

/// wasmtime's C API library, loaded once per host process with `dlopen`.
///
/// `scripts/fetch-wasmtime.sh` installs it (from the official `wasmtime` wheel, both hashes
/// checked) as `.build/runtimes/wasmtime/libwasmtime.so`; `CLOISTER_WASMTIME_LIB` names another
/// file. The loader refuses a library unless every function Cloister declares and the version
/// marker of exactly ``version`` resolve (`Sources/CWasmtime`), so a missing or different
/// library is never called through a wrong ABI: the kernel runs on WasmKit instead.
final class WasmtimeLibrary: @unchecked Sendable {
    /// The release Cloister's declarations match.
    static let version = CLOISTER_WASMTIME_VERSION
    static let fileName = "libwasmtime.so"
    /// Where `scripts/fetch-wasmtime.sh` puts it, relative to the package folder.
    static let defaultRelativeDirectory = ".build/runtimes/wasmtime"

    /// Every function of the API.
    let c: cloister_wasmtime_api
    /// The file it was loaded from.
    let path: String

    private init(c: cloister_wasmtime_api, path: String) {
        self.c = c
        self.path = path
    }

    /// The library, or why it could not be loaded (one line).
    static let loaded: Result<WasmtimeLibrary, EngineUnavailable> = {
        guard let path = locate() else {
            return .failure(EngineUnavailable(
                "wasmtime's library \(fileName) was not found (run `make`, which runs scripts/fetch-wasmtime.sh, or set CLOISTER_WASMTIME_LIB)"))
        }
        var error = [CChar](repeating: 0, count: 512)
        guard let api = cloister_wasmtime_load(path, &error, error.count) else {
            return .failure(EngineUnavailable(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
        }
        return .success(WasmtimeLibrary(c: api.pointee, path: path))
    }()

    /// `$CLOISTER_WASMTIME_LIB` when set, else ``defaultRelativeDirectory`` under the folder of the
    /// running executable or of `libcloister_pal.so`, or a parent of it (`.build/release/cloister`
    /// finds `.build/runtimes/wasmtime`; never the current folder: `InstalledRuntimes`).
    static func locate() -> String? {
        if let configured = ProcessInfo.processInfo.environment["CLOISTER_WASMTIME_LIB"], !configured.isEmpty { return configured }
        return InstalledRuntimes.locate(defaultRelativeDirectory + "/" + fileName)
    }

    /// The message of `error`, which is deleted.
    func message(of error: OpaquePointer) -> String {
        var bytes = wasm_byte_vec_t()
        c.wasmtime_error_message(error, &bytes)
        let text = String(decoding: UnsafeBufferPointer(start: bytes.data, count: bytes.size), as: UTF8.self)
        c.wasm_byte_vec_delete(&bytes)
        c.wasmtime_error_delete(error)
        return text
    }

    /// Why `trap` happened, as a ``TrapCause``; the trap is deleted.
    func cause(of trap: OpaquePointer) -> TrapCause {
        defer { c.wasm_trap_delete(trap) }
        var code: wasmtime_trap_code_t = 0
        if c.wasmtime_trap_code(trap, &code) {
            switch code {
            case 0: return .stackOverflow
            case 1, 2: return .memoryOutOfBounds
            case 3: return .tableOutOfBounds
            case 4: return .indirectCallToNull
            case 5: return .indirectCallTypeMismatch
            case 6: return .integerOverflow
            case 7: return .integerDivisionByZero
            case 8: return .badConversionToInteger
            case 9: return .unreachable
            case 11: return .outOfFuel
            case 12: return .atomicWaitOnNonSharedMemory
            case 13: return .nullReference
            case 19: return .uncaughtException
            default: break
            }
        }
        var bytes = wasm_byte_vec_t()
        c.wasm_trap_message(trap, &bytes)
        let text = String(decoding: UnsafeBufferPointer(start: bytes.data, count: bytes.size), as: UTF8.self)
        c.wasm_byte_vec_delete(&bytes)
        return .other(Self.essence(of: text))
    }

    /// The line of a wasmtime message that says what happened: the last "Caused by" entry, not
    /// the backtrace.
    static func essence(of message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let caused = lines.lastIndex(of: "Caused by:") else { return lines.first ?? message }
        let last = lines[(caused + 1)...].last ?? lines[caused]
        // "0: memory fault at …" → drop the numbering.
        if let colon = last.firstIndex(of: ":"), last[..<colon].allSatisfy(\.isNumber) {
            return last[last.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return last
    }
}

/// Why an engine cannot be used in this host process (one line).
struct EngineUnavailable: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
