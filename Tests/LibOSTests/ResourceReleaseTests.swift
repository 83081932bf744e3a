import CloisterTestSupport
import Foundation
import Testing
@testable import LibOS

/// A process that ends gives back everything it held: its Store, linear memory and syscall
/// context, its descriptors, its slot in the process table.
@Suite struct ResourceReleaseTests {
    @Test func endedProcessesDoNotLeakTheirStores() throws {
        let instance = try TestInstance()
        let before = SyscallContext.liveCount.load(ordering: .relaxed)
        for _ in 0..<50 {
            #expect(try instance.run("/bin/hello.wasm").status == .exited(0))
        }
        // A leak would keep all 50; tests running at the same time hold a few at most.
        let after = SyscallContext.liveCount.load(ordering: .relaxed)
        #expect(after - before < 10, "\(after - before) syscall contexts still alive")
        #expect(instance.kernel.processIDs == [])
    }
}
