import Foundation
import LibOS
@_spi(Fuzzing) import WasmKit
import WasmKitWASI

// 6. fuel: how much fuel WasmKit burns per CPU-second, to tell what CPU time the LibOS's fuel
//    backstop (`WasmKitRunner.fuelPerCPUSecond` per CPU-second of a process's limit) allows.
//
// The guests run under the stock bridge on an engine with fuel metering (as the LibOS's engine
// has whenever a process has a CPU-time limit). `procs spin` (the busy loop of the kill test,
// `volatile uint64_t n; for (;;) n++;`) gets a fixed budget and runs until it is out of fuel;
// sha256 and sieve get an unreachable budget and run to the end. Fuel per CPU-second is the fuel
// consumed divided by the thread's CPU time.

extension Bench {
    /// A copy of `WasmKitRunner.fuelPerCPUSecond` (internal to the LibOS): keep the two equal.
    static let libosFuelPerCPUSecond = 4e9

    func fuelSection(stock: StockRunner) throws -> String {
        let spinBudget: UInt64 = options.fuelBudget
        // label, guest, arguments, instrumented, budget (nil: run to the end)
        var cases: [(String, String, [String], Bool, UInt64?)] = [
            ("procs spin", "procs", ["spin"], false, spinBudget),
            ("procs spin, interrupt checks", "procs", ["spin"], true, spinBudget),
        ]
        for name in options.cpuGuests {
            cases.append((name, name, [], false, nil))
            cases.append(("\(name), interrupt checks", name, [], true, nil))
        }
        for (_, guest, _, instrumented, _) in cases { _ = try stock.module(guest, instrumented: instrumented) }
        // Untimed warm-up of every case (page faults, code caches).
        for (label, guest, arguments, instrumented, budget) in cases {
            progress("  warm-up fuel \(label)")
            _ = try stock.runMetered(guest, instrumented: instrumented, arguments: arguments,
                                     budget: budget.map { min($0, 200_000_000) }, stdio: streams.discard)
        }
        var samples: [String: [FuelSample]] = [:]
        var unmetered: [String: [Double]] = [:]
        for run in 1...options.runs {
            for (label, guest, arguments, instrumented, budget) in cases {
                let sample = try stock.runMetered(guest, instrumented: instrumented, arguments: arguments, budget: budget, stdio: streams.discard)
                samples[label, default: []].append(sample)
                progress("  run \(run)/\(options.runs) fuel \(label): \(String(format: "%.3g", sample.perCPUSecond)) fuel/CPU-s, \(formatDuration(sample.cpu)) CPU")
                if budget == nil {
                    // The same guest without fuel metering, back to back: what metering costs.
                    let plain = try stock.run(guest, instrumented: instrumented, arguments: arguments, stdio: streams.discard)
                    unmetered[label, default: []].append(plain.cpu)
                }
            }
        }
        let perSecond = Self.libosFuelPerCPUSecond
        var table = """

            ## Fuel burn rate

            Stock bridge, engine with `fuelMetering: true`, \(options.runs) runs after 1 warm-up. `procs spin` \
            gets \(String(format: "%.3g", Double(spinBudget))) fuel and runs until it is out of fuel; the \
            other guests run to the end with an unreachable budget. Fuel per CPU-second = fuel consumed / \
            thread CPU time (instantiation included). "backstop allows" is the CPU time the LibOS's budget \
            of \(String(format: "%.3g", perSecond)) fuel per CPU-second of the limit \
            (`WasmKitRunner.fuelPerCPUSecond`) lasts at that rate, per second of the limit. "metering \
            cost" is median CPU with metering / median CPU of the same module without it, run back to back.

            | guest | fuel consumed (median) | CPU (median) | fuel / CPU-second (median) | min | max | backstop allows, per 1 s of limit | metering cost |
            |---|---:|---:|---:|---:|---:|---:|---:|

            """
        for (label, _, _, _, _) in cases {
            let s = samples[label]!
            let rates = s.map(\.perCPUSecond).sorted()
            let rate = median(rates)
            let cost = unmetered[label].map { median(s.map(\.cpu).sorted()) / median($0.sorted()) }
            table += "| \(label) | \(String(format: "%.3g", median(s.map { Double($0.consumed) }.sorted()))) | "
            table += "\(formatDuration(median(s.map(\.cpu).sorted()))) | \(String(format: "%.3g", rate)) | "
            table += "\(String(format: "%.3g", rates.first!)) | \(String(format: "%.3g", rates.last!)) | "
            table += "\(String(format: "%.1f s", perSecond / rate)) | \(cost.map(formatRatio) ?? "") |\n"
        }
        return table
    }
}

/// One metered run: the fuel it consumed, its thread CPU time and wall time, and whether it
/// ran out of fuel.
struct FuelSample {
    var consumed: UInt64
    var cpu: Double
    var wall: Double
    var outOfFuel: Bool
    var perCPUSecond: Double { Double(consumed) / cpu }
}

extension StockRunner {
    /// Runs `<name>.wasm` under the stock bridge on an engine with fuel metering. With a budget
    /// the guest must run out of fuel; without one it must exit 0. Imports of modules other than
    /// WASI (procs.wasm's `cloister` calls, which `spin` never makes) are stubs that trap.
    func runMetered(_ name: String, instrumented: Bool, arguments: [String], budget: UInt64?, stdio: Kernel.StandardIO) throws -> FuelSample {
        let module = try self.module(name, instrumented: instrumented)
        let start = budget ?? (1 << 62)
        var outOfFuel = false
        var consumed: UInt64 = 0
        let wall0 = wallNanoseconds()
        let cpu0 = threadCPUNanoseconds()
        do {
            let wasi = try WASIBridgeToHost(
                args: [name] + arguments, environment: guestEnvironment,
                preopens: [.init(guestPath: "/data", hostPath: dataDirectory)],
                stdin: stdio.input, stdout: stdio.output, stderr: stdio.error)
            let code = try wasi.runAndClose { wasi -> UInt32 in
                let engine = Engine(configuration: EngineConfiguration(stackSize: self.stackSize, fuelMetering: true))
                let store = Store(engine: engine)
                var imports = Imports()
                wasi.link(to: &imports, store: store)
                for entry in module.imports where entry.module != "wasi_snapshot_preview1" {
                    guard case .function(let index) = entry.descriptor, let type = module.functionType(at: index) else { continue }
                    let label = "\(entry.module).\(entry.name)"
                    imports.define(module: entry.module, name: entry.name, Function(store: store, type: type) { _, _ in
                        throw BenchError("\(label) is not provided by the fuel benchmark")
                    })
                }
                let instance = try module.instantiate(store: store, imports: imports)
                store.fuel = Fuel(remaining: start)
                defer { consumed = start - (store.fuel?.remaining ?? start) }
                do {
                    return try wasi.start(instance)
                } catch {
                    guard "\(error)".contains("out of fuel") else { throw error }
                    outOfFuel = true
                    return 0
                }
            }
            guard code == 0 else { throw BenchError("exited with \(code)") }
        } catch {
            throw BenchError("fuel: \(name).wasm \(arguments.joined(separator: " ")): \(error)")
        }
        let cpu1 = threadCPUNanoseconds()
        let wall1 = wallNanoseconds()
        guard outOfFuel == (budget != nil) else {
            throw BenchError("fuel: \(name).wasm \(outOfFuel ? "ran out of fuel" : "did not run out of fuel")")
        }
        return FuelSample(consumed: consumed, cpu: Double(cpu1 - cpu0) / 1e9, wall: Double(wall1 - wall0) / 1e9, outOfFuel: outOfFuel)
    }
}
