import CloisterTestSupport
import Foundation
import Testing
import WasmKit
import WAT
@testable import LibOS

/// The instrumenter unrolls small innermost loops so that their interrupt check runs once every
/// few iterations. These tests hold the rewritten code to the original's results on loops that
/// leave from every copy, branch out of the loop from nested blocks, use `br_table`, carry
/// results, and sit inside other loops; and show that an unrolled spinner is still stopped.
@Suite struct LoopUnrollingTests {
    /// Functions of one `i32` whose loops run `n`-dependent numbers of iterations.
    static let loops = """
        (module
          (memory 1)
          ;; clang's do-while shape: the back-edge is a br_if at the end of the body.
          (func (export "doWhile") (param $n i32) (result i32) (local $acc i32)
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (loop $next
              (local.set $acc (i32.add (i32.mul (local.get $acc) (i32.const 3)) (local.get $n)))
              (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
            (local.get $acc))
          ;; A loop whose result leaves by falling off its end, from whichever copy is running.
          (func (export "loopResult") (param $n i32) (result i32) (local $i i32)
            (loop $next (result i32)
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $next (i32.lt_u (local.get $i) (local.get $n)))
              (i32.add (local.get $i) (i32.const 1000))))
          ;; Leaving through an outer block with a value, from inside an if inside the loop.
          (func (export "breakWithValue") (param $n i32) (result i32) (local $i i32)
            (block $out (result i32)
              (loop $next
                (local.set $i (i32.add (local.get $i) (i32.const 2)))
                (if (i32.ge_u (local.get $i) (local.get $n))
                  (then (br $out (i32.mul (local.get $i) (i32.const 7))))
                  (else (br $next))))
              (i32.const -1)))
          ;; br_table choosing between an inner block, the loop, an outer block and the function.
          (func (export "table") (param $n i32) (result i32) (local $i i32) (local $acc i32)
            (block $done
              (loop $next
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (block $skip
                  (br_table $skip $next $done 3
                    (i32.rem_u (i32.add (local.get $i) (local.get $n)) (i32.const 5))))
                (local.set $acc (i32.add (local.get $acc) (local.get $i)))
                (br_if $done (i32.gt_u (local.get $i) (i32.add (local.get $n) (i32.const 20))))
                (br $next)))
            (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const 100))))
          ;; An outer loop (not unrolled) around an inner one (unrolled) that restarts the outer.
          (func (export "nested") (param $n i32) (result i32) (local $i i32) (local $j i32) (local $acc i32)
            (block $done
              (loop $outer
                (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (local.set $j (i32.const 0))
                (loop $inner
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (local.set $acc (i32.add (local.get $acc) (local.get $j)))
                  (br_if $outer (i32.eq (local.get $j) (local.get $i)))
                  (br $inner))))
            (local.get $acc))
          ;; An outer loop whose body starts with the inner loop: the outer head's check and the
          ;; unrolled inner loop begin at the same offset.
          (func (export "innerFirst") (param $n i32) (result i32) (local $i i32) (local $acc i32)
            (loop $outer
              (loop $inner
                (local.set $acc (i32.add (local.get $acc) (i32.const 3)))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $inner (i32.and (local.get $i) (i32.const 3))))
              (br_if $outer (i32.lt_u (local.get $i) (local.get $n))))
            (i32.add (local.get $acc) (local.get $i)))
          ;; An i64 result, and a store on every iteration (sieve's inner loop).
          (func (export "sieveLike") (param $n i32) (result i32) (local $j i64)
            (i32.wrap_i64
              (loop $next (result i64)
                (i32.store8 (i32.wrap_i64 (local.get $j)) (i32.const 1))
                (local.set $j (i64.add (local.get $j) (i64.const 3)))
                (br_if $next (i64.le_u (local.get $j) (i64.extend_i32_u (local.get $n))))
                (local.get $j))))
          ;; A body too long for eight copies (four), and one too long for any (not unrolled).
          (func (export "longBody") (param $n i32) (result i32) (local $acc i32)
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (loop $next
              \(String(repeating: "(local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 31)) (local.get $n)))\n", count: 6))
              (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
            (local.get $acc))
          (func (export "tooLong") (param $n i32) (result i32) (local $acc i32)
            (local.set $n (i32.add (local.get $n) (i32.const 1)))
            (loop $next
              \(String(repeating: "(local.set $acc (i32.xor (i32.mul (local.get $acc) (i32.const 31)) (local.get $n)))\n", count: 40))
              (br_if $next (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
            (local.get $acc)))
        """

    static let functions = ["doWhile", "loopResult", "breakWithValue", "table", "nested", "innerFirst", "sieveLike", "longBody", "tooLong"]

    @Test func unrolledLoopsComputeWhatTheOriginalsDo() throws {
        let original = try wat2wasm(LoopUnrollingTests.loops)
        for style in [InstrumentationStyle.interruptFlag, .engineChecks] {
            let instrumented = try InterruptInstrumentation.instrument(original, style: style)
            // 0…40 leaves each loop from every one of its copies (at most 8), several times over.
            for name in LoopUnrollingTests.functions {
                let expected = try LoopUnrollingTests.results(of: name, in: original, for: 0..<41)
                let actual = try LoopUnrollingTests.results(of: name, in: instrumented, for: 0..<41)
                #expect(actual == expected, "\(name), \(style)")
            }
        }
    }

    @Test func smallInnermostLoopsAreUnrolledAndOthersAreNot() throws {
        let layout = try ModuleLayout(try wat2wasm(LoopUnrollingTests.loops))
        // Every function has one unrollable loop: in `nested` and `innerFirst` the inner one
        // only; `tooLong`'s body is over the limit.
        let copies = layout.bodies.map { body in body.innermostLoops.map { LoopUnrolling.copies(forBodyOfSize: $0.body.count) } }
        #expect(copies.count == LoopUnrollingTests.functions.count)
        #expect(copies[0] == [8] && copies[1] == [8] && copies[3] == [8] && copies[6] == [8])
        #expect(copies[4] == [8] && layout.bodies[4].loopHeads.count == 2)
        #expect(copies[5] == [8] && layout.bodies[5].loopHeads.count == 2)
        #expect(copies[7] == [4])
        #expect(copies[8] == [])
        // A loop with parameters keeps its check at the head instead.
        let withParameters = try ModuleLayout(try wat2wasm("""
            (module (func (param i32) (result i32) (local.get 0)
              (loop (param i32) (result i32) (i32.sub (i32.const 1)) (local.tee 0) (br_if 0 (local.get 0)))))
            """))
        #expect(withParameters.bodies[0].innermostLoops.isEmpty)
        #expect(withParameters.bodies[0].loopHeads.count == 1)
    }

    @Test func unrolledSpinnerIsStillKilled() throws {
        let instance = try TestInstance()
        // `loop br 0` is two bytes: it is unrolled eight times, with one check for eight turns.
        let path = try instance.install(wat: """
            (module (memory (export "memory") 1)
              (func (export "_start") (local $i i32)
                (loop $forever (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $forever))))
            """, as: "unrolled-spinner")
        try instance.expectEndedByKillAndTerminate(path)
    }

    @Test func everyGuestStillValidatesAfterTheRewrite() throws {
        // WasmKit translates a function only when it first runs, so a bad rewrite of a loop no
        // test executes would go unseen: every body of every built guest, and of python.wasm
        // when `make` has fetched it, is validated here after the rewrite, in each engine's
        // style by that engine's validator.
        let guests = try TestGuests.directory()
        var paths = try FileManager.default.contentsOfDirectory(atPath: guests.path)
            .filter { $0.hasSuffix(".wasm") }.map { guests.appendingPathComponent($0).path }
        let python = FileManager.default.currentDirectoryPath + "/.build/runtimes/python/python-3.11.3.wasm"
        if FileManager.default.fileExists(atPath: python) { paths.append(python) }
        #expect(paths.count >= 10)
        var engines: [any GuestEngine] = [WasmKitEngine.shared]
        if case .success(let wasmtime) = WasmtimeEngine.shared { engines.append(wasmtime) }
        for path in paths {
            let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            for engine in engines {
                let instrumented = try InterruptInstrumentation.instrument(original, style: engine.instrumentation)
                #expect(throws: Never.self, "\(path) on \(engine.kind)") { try engine.validate(instrumented, path: path) }
            }
        }
    }

    /// Calls `name` with each input; a trap is recorded as nil.
    static func results(of name: String, in bytes: [UInt8], for inputs: Range<Int32>) throws -> [Int64?] {
        let store = Store(engine: Engine())
        let instance = try parseWasm(bytes: bytes).instantiate(store: store)
        let function = try #require(instance.exports[function: name])
        return inputs.map { input in
            guard let result = try? function([.i32(UInt32(bitPattern: input))]).first else { return nil }
            if case .i32(let value) = result { return Int64(Int32(bitPattern: value)) }
            return nil
        }
    }
}
