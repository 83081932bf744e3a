// The `crypto` section: protected-file encrypt/decrypt throughput in memory, against
// `openssl speed -evp aes-{128,256}-gcm` when openssl is on PATH.

import Foundation
import ProtectedFiles

/// A `SequentialOutput` that drops what it is given (so encryption alone is timed).
final class DiscardingOutput: SequentialOutput {
    private(set) var count = 0
    func write(_ bytes: UnsafeRawBufferPointer) throws { count += bytes.count }
}

extension Bench {
    /// Encrypts and decrypts `cryptoMiB` MiB per scheme, in 1 MiB writes, entirely in memory.
    func cryptoSection() throws -> String {
        let mib = options.cryptoMiB
        let writeSize = 1 << 20
        let bytesPerRun = Double(mib) * Double(writeSize)
        var block = [UInt8](repeating: 0, count: writeSize)
        for i in block.indices { block[i] = UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13) }
        let schemes: [Scheme] = [.aesGCM128, .aesGCM256, .cloisterFile128, .cloisterFile256]

        progress("crypto: openssl speed")
        let openssl = [16: opensslSpeed("aes-128-gcm"), 32: opensslSpeed("aes-256-gcm")]

        var rows: [(Scheme, Samples, Samples)] = []
        for scheme in schemes {
            let key = (0..<scheme.keySize).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
            let iv: [UInt8]? = scheme.takesIV ? (0..<Scheme.ivSize).map { UInt8($0) } : nil

            func encrypt(into output: SequentialOutput) throws {
                let writer = try ProtectedFileWriter(scheme: scheme, key: key, iv: iv, output: output)
                for _ in 0..<mib { try writer.write(block) }
                _ = try writer.finish()
            }
            func decrypt(_ input: MemoryFile) throws {
                let reader = try ProtectedFileReader(scheme: scheme, key: key, iv: iv, input: input)
                var total = 0
                while let piece = try reader.read() { total += piece.count }
                guard total == mib * writeSize else { throw BenchError("\(scheme.rawValue): decrypted \(total) bytes") }
            }
            func timed(_ body: () throws -> Void) rethrows -> Sample {
                let wall0 = wallNanoseconds(), cpu0 = threadCPUNanoseconds()
                try body()
                return Sample(wall: Double(wallNanoseconds() - wall0) / 1e9, cpu: Double(threadCPUNanoseconds() - cpu0) / 1e9)
            }

            // The ciphertext for the decryption runs, made once, untimed.
            progress("crypto: \(scheme.rawValue): preparing \(mib) MiB of ciphertext")
            let stored = MemoryFile()
            stored.bytes.reserveCapacity(mib * writeSize + mib * 64 + 4096)
            try encrypt(into: stored)

            for round in 0..<options.warmup {
                progress("  warm-up \(round + 1)/\(options.warmup) \(scheme.rawValue)")
                try encrypt(into: DiscardingOutput())
                try decrypt(stored)
            }
            var encryptions = Samples(), decryptions = Samples()
            for run in 1...options.runs {
                let e = try timed { try encrypt(into: DiscardingOutput()) }
                let d = try timed { try decrypt(stored) }
                encryptions.append(e)
                decryptions.append(d)
                progress(String(format: "  run %d/%d %@: encrypt %.0f MB/s, decrypt %.0f MB/s", run, options.runs,
                                scheme.rawValue, bytesPerRun / e.wall / 1e6, bytesPerRun / d.wall / 1e6))
            }
            rows.append((scheme, encryptions, decryptions))
        }

        func mbps(_ seconds: Double) -> Double { bytesPerRun / seconds / 1e6 }
        func format(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "—" }
            return String(format: "%.0f MB/s", value)
        }
        func percent(_ value: Double?) -> String {
            guard let value, value.isFinite else { return "—" }
            return String(format: "%.0f %%", value * 100)
        }
        var table = """

            ## Protected files: encrypt/decrypt throughput, \(mib) MiB in memory, 1 MiB writes

            Each run encrypts \(mib) MiB with `ProtectedFileWriter` into a sink that discards the \
            ciphertext, and decrypts the same amount with `ProtectedFileReader` from a `MemoryFile` \
            (ciphertext prepared once, untimed); no disk is involved. cloister-file uses its default \
            \(ChunkedFileHeader.defaultChunkSize / 1024) KiB chunks. MB/s is 10^6 bytes of plaintext \
            per second of wall time (median of \(options.runs) runs). openssl is `openssl speed -evp \
            aes-N-gcm -bytes 65536 -seconds 3`, 65536-byte blocks, one thread; the ratio columns are \
            scheme / openssl (target for cloister-file: ≥ 70 %).

            | scheme | encrypt (median) | encrypt (best) | decrypt (median) | decrypt (best) | openssl | encrypt / openssl | decrypt / openssl |
            |---|---:|---:|---:|---:|---:|---:|---:|

            """
        for (scheme, e, d) in rows {
            let reference = openssl[scheme.keySize] ?? nil
            table += "| \(scheme.rawValue) | \(format(mbps(e.medianWall))) | \(format(mbps(e.minWall))) | "
            table += "\(format(mbps(d.medianWall))) | \(format(mbps(d.minWall))) | \(format(reference)) | "
            table += "\(percent(reference.map { mbps(e.medianWall) / $0 })) | \(percent(reference.map { mbps(d.medianWall) / $0 })) |\n"
        }
        if openssl.values.allSatisfy({ $0 == nil }) {
            table += "\nopenssl was not found on PATH or its output could not be parsed; no ratios.\n"
        }
        return table
    }

    /// Runs `openssl speed -evp <cipher> -bytes 65536 -seconds 3` and returns MB/s (10^6 bytes/s)
    /// for 65536-byte blocks, or nil when openssl is missing or its output is not understood.
    func opensslSpeed(_ cipher: String) -> Double? {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin")
            .split(separator: ":").map { "\($0)/openssl" }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let path else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = ["speed", "-evp", cipher, "-bytes", "65536", "-seconds", "3"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let text = String(data: data, encoding: .utf8) else { return nil }
        // The result line: "AES-128-GCM    1234567.89k" (the last column is 65536-byte blocks,
        // in 1000s of bytes per second).
        for line in text.split(separator: "\n") where line.lowercased().hasPrefix(cipher.lowercased()) {
            guard let last = line.split(separator: " ").last, last.hasSuffix("k"),
                  let kilo = Double(last.dropLast()) else { continue }
            progress("  openssl \(cipher): \(line)")
            return kilo * 1000 / 1e6
        }
        return nil
    }
}
