import CloisterTestSupport
import Foundation
import Testing
@testable import LibOS

/// CPU-time and wall-clock limits, their per-run overrides, and the fuel backstop.
@Suite struct LimitTests {
    static let spinner = "(module (memory (export \"memory\") 1) (func (export \"_start\") (loop $l (br $l))))"

    @Test func aSpinnerOverItsCPULimitDiesBySIGXCPU() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: Self.spinner, as: "spin")
        let (_, finished) = try instance.start(path, limits: .init(cpuTime: 300_000_000))
        #expect(eventually(within: 60) { finished.value != nil })
        let status = try #require(finished.value ?? nil)
        #expect(status == .signaled(.cpuLimit))
        #expect(status.reason?.contains("CPU-time limit of 300ms exceeded") == true, "\(status)")
    }

    @Test func aSleeperPastItsWallClockLimitIsKilled() throws {
        let instance = try TestInstance()
        let path = try instance.install(wat: GuestSnippets.sleeper(), as: "sleeper")
        let (_, finished) = try instance.start(path, limits: .init(wallTime: 300_000_000))
        #expect(eventually(within: 60) { finished.value != nil })
        let status = try #require(finished.value ?? nil)
        #expect(status == .signaled(.kill))
        #expect(status.reason?.contains("wall-clock limit of 300ms exceeded") == true, "\(status)")
    }

    @Test func aRunMayLowerLimitsButNotRaiseThem() throws {
        let instance = try TestInstance()
        // The test instance's config sets no CPU or wall limit and a 32 MB heap.
        #expect(throws: Errno.inval) { try instance.kernel.createProcess(path: "/bin/hello.wasm", limits: .init(memory: 64 << 20)) }
        #expect(throws: Errno.inval) { try instance.kernel.createProcess(path: "/bin/hello.wasm", limits: .init(wallTime: 0)) }
        // A lower memory limit holds: two pages of initial memory over a one-page limit.
        let big = try instance.install(wat: "(module (memory (export \"memory\") 2) (func (export \"_start\")))", as: "big")
        #expect(throws: Errno.nomem) { try instance.kernel.createProcess(path: big, limits: .init(memory: 65536)) }
        #expect(instance.kernel.processIDs.isEmpty)
    }

    @Test func configLimitsParseAndBoundOverrides() throws {
        var config = try InstanceConfig.parse(InstanceConfig.defaultJSON, file: "Cloister.json")
        #expect(config.process.cpuTimeLimit == 600_000_000_000)
        #expect(config.process.wallTimeLimit == 3_600_000_000_000)
        #expect(config.process.interruptPeriod == 10_000_000)
        config.process.wallTimeLimit = 1_000_000_000
        let limits = ProcessLimits(defaults: config.process)
        #expect(throws: Errno.inval) { try limits.lowered(by: .init(wallTime: 2_000_000_000)) }
        #expect(try limits.lowered(by: .init(wallTime: 500_000_000)).wallTime == 500_000_000)
        let bad = InstanceConfig.defaultJSON.replacingOccurrences(of: "\"cpu_time_limit\": \"10m\"", with: "\"cpu_time_limit\": \"soon\"")
        #expect(throws: ConfigError.self) { try InstanceConfig.parse(bad, file: "Cloister.json") }
        let none = InstanceConfig.defaultJSON.replacingOccurrences(of: "\"cpu_time_limit\": \"10m\"", with: "\"cpu_time_limit\": null")
        #expect(try InstanceConfig.parse(none, file: "Cloister.json").process.cpuTimeLimit == nil)
    }

    /// If the interrupt checks were ever missing, fuel still bounds a guest with a CPU limit.
    @Test func fuelStopsAnUninstrumentedSpinner() throws {
        let folder = try InstanceFolder()
        // Fuel is WasmKit's backstop; wasmtime needs none (its epochs are not instrumentation).
        let kernel = try Kernel(
            instanceDirectory: folder.path, config: nil, logLevel: nil, logSink: .memory(), engine: .wasmkit, instrumentsPrograms: false)
        let path = try folder.install(wat: Self.spinner, as: "raw-spin")
        let pid = try kernel.createProcess(path: path, limits: .init(cpuTime: 10_000_000))
        let finished = Finished()
        Thread { finished.set(try? kernel.exec(pid: pid)) }.start()
        // The flag is raised at 10 ms of CPU but nothing checks it: only fuel can end the loop.
        #expect(eventually(within: 120) { finished.value != nil })
        #expect(finished.value == .some(.signaled(.cpuLimit)))
    }
}
