import CloisterTestSupport
import Foundation
import Synchronization
import Testing

@testable import LibOS

/// The wait model's parts on their own (no guest): a ``WaiterQueue`` wakes the waiters whose
/// events it is notified of, forgets removed ones, reports its interest to a host-side hook;
/// a ``Waiter`` blocked on it ends by a notification, a deadline or an interrupt; and the
/// ``HostNotifier`` turns a host descriptor's change into a notification.
@Suite struct WaiterQueueTests {
    /// A blocking wait on a helper thread; `result` holds its outcome once it has one.
    private final class Blocked: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: Result<Int, Errno>?
        var result: Result<Int, Errno>? { lock.withLock { stored } }
        /// How many times the wait's attempt ran.
        let attempts = Atomic<Int>(0)

        init(_ body: @escaping @Sendable (Blocked) -> Result<Int, Errno>) {
            Thread { [self] in
                let outcome = body(self)
                lock.withLock { stored = outcome }
            }.start()
        }
    }

    @Test func notifyWakesAWaiterThatThenSeesTheChange() throws {
        let queue = WaiterQueue()
        let value = Atomic<Int>(0)
        let blocked = Blocked { blocked in
            Result { () throws(Errno) -> Int in
                try Waiter().block(on: [WaitInterest(queue, .readable)], until: nil, isInterrupted: { false }) { () -> Int? in
                    blocked.attempts.add(1, ordering: .relaxed)
                    let seen = value.load(ordering: .acquiring)
                    return seen == 0 ? nil : seen
                }
            }
        }
        // Registered and checked at least once after registering (attempt 2), so it sleeps.
        #expect(eventually(within: 60) { blocked.attempts.load(ordering: .relaxed) >= 2 && queue.registrationCount == 1 })
        value.store(42, ordering: .releasing)
        queue.notify(.readable)
        #expect(eventually(within: 60) { blocked.result != nil })
        #expect(try blocked.result?.get() == 42)
        #expect(queue.registrationCount == 0, "the wait removed its registration")
    }

    @Test func notifyWakesOnlyTheEventsAskedForAndAlwaysErrorAndHangUp() throws {
        let queue = WaiterQueue()
        let reader = Waiter()
        let registration = try queue.add(reader, for: .readable)
        queue.notify(.writable)
        #expect(!reader.isWoken, "a writable change does not wake a reader")
        queue.notify(.hangUp)
        #expect(reader.isWoken, "hang-up wakes everyone")
        let writer = Waiter()
        _ = try queue.add(writer, for: .writable)
        queue.notify(.error)
        #expect(writer.isWoken, "so does an error")
        queue.remove(registration)
        queue.remove(registration)  // twice: nothing
        let later = Waiter()
        let laterRegistration = try queue.add(later, for: .writable)
        queue.remove(laterRegistration)
        queue.notify([.readable, .writable])
        #expect(!later.isWoken, "a removed waiter is not woken")
        #expect(queue.registrationCount == 1)
    }

    @Test func anInterruptEndsAWaitWithEINTR() throws {
        let queue = WaiterQueue()
        let interrupted = Atomic<Bool>(false)
        let waiter = Waiter()
        let blocked = Blocked { blocked in
            Result { () throws(Errno) -> Int in
                try waiter.block(on: [WaitInterest(queue, .readable)], until: nil, isInterrupted: { interrupted.load(ordering: .acquiring) }) { () -> Int? in
                    blocked.attempts.add(1, ordering: .relaxed)
                    return nil
                }
            }
        }
        #expect(eventually(within: 60) { blocked.attempts.load(ordering: .relaxed) >= 2 })
        interrupted.store(true, ordering: .releasing)
        waiter.wake()  // what GuestThread.interrupt() does
        #expect(eventually(within: 60) { blocked.result != nil })
        #expect(blocked.result == .failure(.intr))
        #expect(queue.registrationCount == 0)
    }

    @Test func aDeadlineEndsAWaitWithETIMEDOUTAndAnInertQueueKeepsNothing() throws {
        let start = monotonicNanoseconds()
        #expect(throws: Errno.timedout) {
            let _: Int = try Waiter().block(on: [WaitInterest(.inert, .readable)], until: start + 20_000_000, isInterrupted: { false }) { nil }
        }
        #expect(monotonicNanoseconds() >= start + 20_000_000)
        #expect(WaiterQueue.inert.registrationCount == 0)
    }

    @Test func theInterestHookSeesTheUnionOfWhatWaitersAskFor() throws {
        let seen = Mutex<[Events]>([])
        let queue = WaiterQueue(interestChanged: { (_, events) throws(Errno) in seen.withLock { $0.append(events) } })
        let first = try queue.add(Waiter(), for: .readable)
        let second = try queue.add(Waiter(), for: .writable)
        _ = try queue.add(Waiter(), for: .readable)  // no change: not reported
        queue.remove(first)
        queue.remove(second)
        #expect(seen.withLock { $0 } == [[.readable, .error, .hangUp], [.readable, .writable, .error, .hangUp], [.readable, .error, .hangUp]])

        let refusing = WaiterQueue(interestChanged: { (_, _) throws(Errno) in throw .nomem })
        #expect(throws: Errno.nomem) { _ = try refusing.add(Waiter(), for: .readable) }
        #expect(refusing.registrationCount == 0, "a refused registration is not kept")
    }

    /// A host stream read that has to wait is woken by the host notifier when the host writes:
    /// no guest, no thread polling the descriptor. Once it returns, the notifier watches nothing
    /// for it.
    @Test func aHostStreamReadWakesWhenTheHostWrites() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let stream = HostStreamDescription(fd: fds[0])
        #expect(stream.readiness([.readable]) == [])
        let blocked = Blocked { _ in
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16, alignment: 1)
            defer { buffer.deallocate() }
            return Result { () throws(Errno) -> Int in try stream.read(into: buffer) }
        }
        #expect(eventually(within: 60) { stream.waiterQueue.registrationCount == 1 })
        #expect(stream.waiterQueue.currentInterest.contains(.readable))
        #expect(HostNotifier.shared.isWatching(fds[0]), "watched while a reader waits")
        #expect(write(fds[1], "hello", 5) == 5)
        #expect(eventually(within: 60) { blocked.result != nil })
        #expect(blocked.result == .success(5))
        #expect(stream.waiterQueue.registrationCount == 0)
        #expect(!HostNotifier.shared.isWatching(fds[0]), "and no longer once the read returned")
        #expect(stream.readiness([.readable]) == [])
        close(fds[1])
        fds[1] = -1
        #expect(stream.readiness([.readable]) == [.hangUp], "every writer gone: hang-up")
    }

    /// Two descriptions over one host descriptor (two kernels in one process both inherit fd 0):
    /// the notifier keeps both queues on the descriptor and wakes both; each read takes what is
    /// there, and the descriptor leaves the set only when neither waits any more.
    @Test func twoDescriptionsOfOneHostDescriptorAreBothWoken() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer {
            close(fds[0])
            close(fds[1])
        }
        let streams = [HostStreamDescription(fd: fds[0]), HostStreamDescription(fd: fds[0])]
        let readers = streams.map { stream in
            Blocked { _ in
                let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
                defer { buffer.deallocate() }
                return Result { () throws(Errno) -> Int in try stream.read(into: buffer) }
            }
        }
        #expect(eventually(within: 60) { streams.allSatisfy { $0.waiterQueue.registrationCount == 1 } })
        #expect(write(fds[1], "a", 1) == 1)
        #expect(eventually(within: 60) { readers.contains { $0.result != nil } }, "one reader took the byte")
        #expect(HostNotifier.shared.isWatching(fds[0]), "the other still waits")
        #expect(write(fds[1], "b", 1) == 1)
        #expect(eventually(within: 60) { readers.allSatisfy { $0.result != nil } })
        #expect(readers.map(\.result) == [.success(1), .success(1)])
        #expect(!HostNotifier.shared.isWatching(fds[0]))
    }
}
