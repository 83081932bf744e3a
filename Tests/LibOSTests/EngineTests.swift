import CWasmtime
import CloisterTestSupport
import Crypto
import Foundation
import Testing
@testable import LibOS

/// The engine seam: both engines run the same guests through the same kernel and agree; the
/// wasmtime library is the one `make` fetched; its declared ABI matches the release's layouts;
/// the artifact cache loads only what the kernel wrote.
@Suite struct EngineTests {
    @Test func theFetchedWasmtimeLibraryLoads() throws {
        #expect(EngineSelection.wasmtimeUnavailability == nil, "run `make` (scripts/fetch-wasmtime.sh): \(EngineSelection.wasmtimeUnavailability ?? "")")
        #expect(EngineSelection.defaultKind == .wasmtime)
        #expect(try TestInstance(engine: .wasmtime).kernel.engineKind == .wasmtime)
        #expect(try TestInstance(engine: .wasmkit).kernel.engineKind == .wasmkit)
    }

    /// `CLOISTER_ENGINE` chooses the engine of a kernel that names none (`make test` runs the
    /// suites once with `wasmkit`).
    @Test func theEnvironmentChoosesTheEngine() throws {
        let wanted = ProcessInfo.processInfo.environment["CLOISTER_ENGINE"].flatMap(EngineKind.init(rawValue:)) ?? .wasmtime
        #expect(try TestInstance().kernel.engineKind == wanted)
    }

    /// The layouts Cloister declares in cloister_wasmtime.h, against wasmtime 51.0.0's own
    /// (from the wheel's generated _bindings.py, which is generated from the release's headers).
    @Test func declaredLayoutsMatchTheRelease() {
        #expect(MemoryLayout<wasmtime_extern_t>.size == 32 && MemoryLayout<wasmtime_extern_t>.alignment == 8)
        #expect(cloister_wasmtime_extern_of_offset() == 8)
        #expect(MemoryLayout<wasmtime_val_raw_t>.size == 16 && MemoryLayout<wasmtime_val_raw_t>.alignment == 8)
        #expect(MemoryLayout<wasmtime_memory_t>.size == 24 && MemoryLayout<wasmtime_memory_t>.alignment == 8)
        #expect(MemoryLayout<wasmtime_func_t>.size == 16 && MemoryLayout<wasmtime_func_t>.alignment == 8)
        #expect(MemoryLayout<wasmtime_instance_t>.size == 16 && MemoryLayout<wasmtime_instance_t>.alignment == 8)
        #expect(MemoryLayout<wasmtime_global_t>.size == 24)
        #expect(MemoryLayout<wasm_byte_vec_t>.size == 16)
        #expect(MemoryLayout<wasmtime_linear_memory_t>.size == 32)
        #expect(MemoryLayout<wasmtime_memory_request_t>.size == 48 && cloister_wasmtime_memory_request_kind_offset() == 40)
        #expect(MemoryLayout<wasmtime_memory_creator_t>.size == 24)
    }

    /// The C guests give the same output and status on both engines (a differential run), with
    /// the arguments their own suites give them.
    @Test(arguments: [
        ("hello", []), ("args_env", ["one", "two words"]), ("fd_ops", ["/data"]), ("fd_ops", ["/tmp"]), ("path_ops", ["/data"]),
        ("path_ops", ["/tmp"]), ("poll", ["/tmp"]), ("clocks", ["/tmp"]), ("misc", ["/tmp"]), ("procs", ["basics"]),
        ("stdin_echo", []), ("exit_code", ["42"]),
    ] as [(String, [String])])
    func enginesAgree(guest: String, arguments: [String]) throws {
        var runs: [TestInstance.Run] = []
        for engine in EngineKind.allCases {
            let instance = try TestInstance(engine: engine)
            runs.append(try instance.run("/bin/\(guest).wasm", arguments, stdin: "line one\nline two\n"))
        }
        #expect(runs[0].status == runs[1].status, "\(guest): \(runs[0].status) on wasmtime, \(runs[1].status) on wasmkit")
        #expect(runs[0].failures == [] && runs[1].failures == [], "\(guest): \(runs[0].failures) \(runs[1].failures)")
        // Outputs that print times, ids or addresses differ by nature; the rest must be equal.
        if !["clocks", "misc", "poll", "procs"].contains(guest) {
            #expect(runs[0].stdout == runs[1].stdout, "\(guest)")
        } else {
            #expect(runs[0].stdout.split(separator: "\n").count == runs[1].stdout.split(separator: "\n").count, "\(guest)")
        }
    }

    /// A tampered artifact and one written under another cache's key are refused and compiled
    /// again — never loaded — and the program still runs.
    @Test func artifactCacheLoadsOnlyWhatItWrote() throws {
        let caches = FileManager.default.temporaryDirectory.appendingPathComponent("cloister-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: caches) }
        let first = caches.appendingPathComponent("first").path
        let second = caches.appendingPathComponent("second").path
        // A program of its own, so that no other test shares its cache entries.
        let bytes = try wat2wasmBytes(#"(module (memory (export "memory") 1) (data (i32.const 8) "\#(UUID().uuidString)") (func (export "_start")))"#)
        let key = ProgramCache.contentKey(digest: Array(SHA256.hash(data: bytes)), engine: .wasmtime, instrumented: true)
        func run(_ cache: String) throws -> TestInstance.Run {
            if let entry = ProgramCache.shared.entry(for: key) { ProgramCache.shared.forget(entry.module) }
            let instance = try TestInstance(engine: .wasmtime, cacheDirectory: cache)
            return try instance.run(try instance.install(bytes: bytes, as: "artifact"))
        }
        #expect(try run(first).status == .exited(0))
        var mode = stat()
        #expect(stat(first, &mode) == 0 && mode.st_mode & 0o777 == 0o700)
        let artifacts = try FileManager.default.contentsOfDirectory(atPath: first).filter { $0.hasSuffix(".cwasm") }
        let name = try #require(artifacts.first)
        let path = first + "/" + name
        #expect(stat(path, &mode) == 0 && mode.st_mode & 0o777 == 0o600)
        let cache = try ArtifactCache.open(first).get()
        #expect(cache.withEntry(name) { _ in true } == true)

        // One flipped byte in the code: refused (and deleted), the program compiled again.
        var artifact = try Data(contentsOf: URL(fileURLWithPath: path))
        artifact[artifact.count / 2] ^= 0x01
        try artifact.write(to: URL(fileURLWithPath: path))
        let refusedBefore = cache.refusals
        #expect(try run(first).status == .exited(0))
        #expect(cache.refusals == refusedBefore + 1)
        #expect(cache.withEntry(name) { _ in true } == true, "the recompiled artifact replaced the tampered one")

        // An artifact another cache wrote (another key), copied in under the same name.
        #expect(try run(second).status == .exited(0))
        try FileManager.default.removeItem(atPath: path)
        try FileManager.default.copyItem(atPath: second + "/" + name, toPath: path)
        #expect(try run(first).status == .exited(0))
        #expect(cache.refusals == refusedBefore + 2)

        // A cache folder open to other users is closed (0700) before use.
        let open = caches.appendingPathComponent("open").path
        try FileManager.default.createDirectory(atPath: open, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o777])
        #expect(try run(open).status == .exited(0))
        #expect(stat(open, &mode) == 0 && mode.st_mode & 0o777 == 0o700)
    }

    /// A program's bytes find its compiled form whatever file they come from: a copy under
    /// another name runs from the program cache.
    @Test func aProgramIsCompiledOncePerContent() throws {
        let instance = try TestInstance()
        let bytes = try wat2wasmBytes(#"(module (memory (export "memory") 1) (data (i32.const 8) "\#(UUID().uuidString)") (func (export "_start")))"#)
        let key = ProgramCache.contentKey(digest: Array(SHA256.hash(data: bytes)), engine: instance.kernel.engineKind, instrumented: true)
        #expect(try instance.run(try instance.install(bytes: bytes, as: "first")).status == .exited(0))
        let compiled = try #require(ProgramCache.shared.entry(for: key)).module
        #expect(try instance.run(try instance.install(bytes: bytes, as: "second")).status == .exited(0))
        #expect(ProgramCache.shared.entry(for: key)?.module === compiled)
    }
}
