import Foundation

/// Which engine a kernel runs on.
///
/// wasmtime when it is asked for (or nothing is) and its library loads; WasmKit otherwise.
/// When wasmtime was wanted but cannot be used (no library, another release, no engine), the
/// host process says so once, in one line on standard error, and runs WasmKit: slower, never
/// a crash and never a wrong ABI.
public enum EngineSelection {
    /// The engine a kernel asks for: `requested`, else `CLOISTER_ENGINE`, else `configured` (the
    /// config's `engine`), else wasmtime. `EINVAL` when `CLOISTER_ENGINE` names no engine.
    public static func wanted(requested: EngineKind?, configured: EngineKind?) throws(Errno) -> EngineKind {
        if let requested { return requested }
        if let name = ProcessInfo.processInfo.environment["CLOISTER_ENGINE"], !name.isEmpty { return try EngineKind(parsing: name) }
        return configured ?? .wasmtime
    }

    /// The engine a kernel that asks for `kind` gets: WasmKit instead of wasmtime when wasmtime
    /// cannot be used in this host process.
    public static func granted(_ kind: EngineKind) -> EngineKind { kind == .wasmtime ? defaultKind : .wasmkit }

    /// The engine a kernel gets for `wanted`, with the one-line notice when it falls back.
    static func engine(_ wanted: EngineKind) -> any GuestEngine {
        switch wanted {
        case .wasmkit:
            return WasmKitEngine.shared
        case .wasmtime:
            switch WasmtimeEngine.shared {
            case .success(let engine):
                return engine
            case .failure(let reason):
                noticeOnce(reason)
                return WasmKitEngine.shared
            }
        }
    }

    /// The engine kernels get by default in this host process: wasmtime when its library loads.
    public static var defaultKind: EngineKind { wasmtimeUnavailability == nil ? .wasmtime : .wasmkit }

    /// Why wasmtime cannot be used in this host process, or nil when it can.
    public static var wasmtimeUnavailability: String? {
        if case .failure(let reason) = WasmtimeEngine.shared { return reason.description }
        return nil
    }

    /// The line printed when wasmtime was wanted and WasmKit runs instead.
    public static func fallbackNotice(_ reason: String) -> String {
        "cloister: wasmtime is not available (\(reason)); guests run on WasmKit, the slower reference engine"
    }

    private static let noticed = NSLock()
    nonisolated(unsafe) private static var hasNoticed = false

    private static func noticeOnce(_ reason: EngineUnavailable) {
        noticed.lock()
        defer { noticed.unlock() }
        guard !hasNoticed else { return }
        hasNoticed = true
        FileHandle.standardError.write(Data((fallbackNotice(reason.description) + "\n").utf8))
    }
}
