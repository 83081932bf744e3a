import CloisterTestSupport
import Foundation
@testable import LibOS
import ProtectedFiles
import Testing

/// Everything a guest can make the host hold is charged to the instance's `user_space_size`
/// (issue 20, item 4): ramfs metadata as well as data, and the plaintext of open sefs files.
@Suite struct MemoryBudgetTests {
    private func instance(userSpace: String, sefs: Bool = false) throws -> TestInstance {
        var options = InstanceFolder.Options()
        options.userSpaceSize = userSpace
        options.heapSize = "1MB"
        if sefs { options.extraMounts = InstanceFolder.sefsMount }
        return try TestInstance(options)
    }

    /// Empty directories cost host memory too: 3 million of them once took 1.4 GB under a
    /// 256 MB `user_space_size`. Now each is charged (a node and a name), so a 4 MB instance
    /// holds a bounded number of them, then answers ENOSPC; removing them gives it all back.
    @Test func ramfsDirectoriesAreCharged() throws {
        let instance = try instance(userSpace: "4MB")
        let baseline = instance.kernel.memoryBudget.usedBytes
        let first = try instance.run("/bin/mkdirs.wasm", ["/tmp", "200000"])
        #expect(first.status == .exited(0))
        let made = try #require(Int(first.stdout.split(separator: " ")[1]), "\(first.stdout)")
        #expect(first.stdout == "made \(made) errno=\(Errno.nospc.rawValue)\nremoved \(made)\n")
        // Each costs at least a node and an entry; they all fit in the 4 MB with the process.
        let perDirectory = Int(RamFileSystem.nodeCost + RamFileSystem.entryCost("d10000"))
        #expect(made > 1000 && made * perDirectory <= 4 << 20, "\(made) directories")
        // Everything came back: the same run makes as many again, and the budget is as before.
        #expect(try instance.run("/bin/mkdirs.wasm", ["/tmp", "200000"]).stdout == first.stdout)
        #expect(instance.kernel.memoryBudget.usedBytes == baseline)
    }

    /// The whole plaintext of an open sefs file lives in host memory: 3 GB of it was once held
    /// uncharged. Opening a file too large for what is left is ENOMEM, growing one past it ENOSPC,
    /// and the last close gives the memory back.
    @Test func sefsPlaintextIsCharged() throws {
        let instance = try instance(userSpace: "8MB", sefs: true)
        let baseline = instance.kernel.memoryBudget.usedBytes
        // A 12 MB file sealed for /secure/big.bin on the host, as a data owner would.
        let keyText = try String(contentsOf: instance.directory.appendingPathComponent("sefs.key"), encoding: .utf8)
        let key = try Hex.decode(keyText.replacingOccurrences(of: "key:", with: "").trimmingCharacters(in: .whitespacesAndNewlines))
        let output = MemoryFile()
        let writer = try ProtectedFileWriter(scheme: .cloisterFile256, key: SefsFileSystem.fileKey(mountKey: key, path: "big.bin"), output: output)
        try writer.write([UInt8](repeating: 0x61, count: 12 << 20))
        _ = try writer.finish()
        try Data(output.bytes).write(to: instance.directory.appendingPathComponent("secure/big.bin"))

        let big = try instance.run("/bin/files.wasm", ["read", "/secure/big.bin"])
        #expect(big.status == .exited(Int32(Errno.nomem.rawValue)), "\(big.stdout)")
        let grown = try instance.run("/bin/files.wasm", ["grow", "/secure/grown.bin", "\(16 << 20)"])
        #expect(grown.status == .exited(Int32(Errno.nospc.rawValue)), "\(grown.stdout)")
        // What fits, works.
        #expect(try instance.run("/bin/files.wasm", ["grow", "/secure/grown.bin", "\(1 << 20)"]).status == .exited(0))
        #expect(try instance.run("/bin/files.wasm", ["read", "/secure/grown.bin"]).status == .exited(0))
        #expect(instance.kernel.memoryBudget.usedBytes == baseline)
    }
}
