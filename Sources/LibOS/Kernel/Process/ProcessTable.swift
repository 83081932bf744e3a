/// The kernel's processes by pid, with their parent/child links, zombies and thread count.
///
/// Process and thread ids share one number space (a process's main thread has the process's
/// id, as on Linux). The table's lock also guards each process's `state` and `parentPID`;
/// ``childEnded`` wakes guest `wait` callers whenever a process ends, the lock's condition the
/// kernel's own shutdown.
final class ProcessTable: @unchecked Sendable {
    /// The parent of processes started through the entry API, and of orphans. It is the kernel
    /// itself: it reaps its children as soon as they end.
    static let initPID: Int32 = 0

    let lock = KernelLock()
    /// Notified (readable) whenever a process ends or is discarded: what `cloister_wait` waits on.
    let childEnded = WaiterQueue()
    private var processes: [Int32: Process] = [:]
    private var nextID: Int32 = 1
    private var liveThreads = 0
    let maxProcesses: Int
    let maxThreads: Int

    init(maxProcesses: Int, maxThreads: Int) {
        self.maxProcesses = maxProcesses
        self.maxThreads = maxThreads
    }

    // MARK: With the lock held

    /// Checks the limits for one more process (with its main thread). With the lock held.
    func checkRoomForProcess() throws(Errno) {
        if processes.count >= maxProcesses {
            throw Errno.again.with(reason: "max_num_of_processes (\(maxProcesses)) reached")
        }
        if liveThreads >= maxThreads { throw Errno.again.with(reason: "max_num_of_threads (\(maxThreads)) reached") }
    }

    /// A fresh id for a process or thread. With the lock held.
    func allocateID() -> Int32 {
        defer { nextID = nextID == 0x1FFF_FFFF ? 1 : nextID + 1 }
        while processes[nextID] != nil { nextID = nextID == 0x1FFF_FFFF ? 1 : nextID + 1 }
        return nextID
    }

    /// Adds a process and counts its main thread. With the lock held, after `checkRoomForProcess`.
    func insert(_ process: Process) {
        processes[process.pid] = process
        liveThreads += 1
    }

    subscript(pid: Int32) -> Process? { processes[pid] }

    var all: [Process] { Array(processes.values) }
    var pids: [Int32] { processes.keys.sorted() }
    var count: Int { processes.count }

    // MARK: Threads

    /// The live thread `tid` of any process, if there is one.
    func thread(_ tid: Int32) -> GuestThread? {
        for process in lock.withLock({ all }) {
            if let thread = process.thread(tid) { return thread }
        }
        return nil
    }

    /// Counts one more thread: `EAGAIN` at `max_num_of_threads`.
    func reserveThread() throws(Errno) {
        try lock.withLock { () throws(Errno) in
            if liveThreads >= maxThreads { throw Errno.again.with(reason: "max_num_of_threads (\(maxThreads)) reached") }
            liveThreads += 1
        }
    }

    func releaseThread() {
        lock.withLock { liveThreads -= 1 }
    }

    /// A fresh thread id; the caller has reserved the thread.
    func threadID() -> Int32 { lock.withLock { allocateID() } }

    // MARK: Life and death

    /// Records that `process` ended with `status`: its children go to init (and init's zombies
    /// are reaped at once); it becomes a zombie for its parent, or is removed when nobody will
    /// wait for it. Returns the parent to notify (SIGCHLD), if any.
    func processEnded(_ process: Process, status: WaitStatus) -> Process? {
        defer { childEnded.notify(.readable) }
        return lock.withLock {
            for child in processes.values where child.parentPID == process.pid {
                child.parentPID = Self.initPID
                if case .zombie = child.state { processes[child.pid] = nil }
            }
            liveThreads -= 1
            defer { lock.broadcast() }
            if process.isCollectedByEntry || process.parentPID == Self.initPID {
                processes[process.pid] = nil
                return nil
            }
            process.state = .zombie(status)
            return processes[process.parentPID]
        }
    }

    /// Removes a process that never ran (its start failed) without making it a zombie.
    func discard(_ process: Process) {
        lock.withLock {
            if processes[process.pid] === process {
                processes[process.pid] = nil
                liveThreads -= 1
            }
            lock.broadcast()
        }
        childEnded.notify(.readable)
    }

    /// Reaps a child of `parent` that has ended (`pid` -1: any child), blocking `thread` until
    /// one does unless `noHang`. Returns nil when `noHang` and none has ended yet.
    /// Throws `ECHILD` when there is no such child, `EINTR` when the caller's process ends.
    func waitForChild(of parent: Process, pid: Int32, noHang: Bool, thread: GuestThread) throws(Errno) -> (pid: Int32, status: WaitStatus)? {
        let attempt = { () throws(Errno) -> (pid: Int32, status: WaitStatus)?? in
            let children = self.processes.values.filter {
                $0.parentPID == parent.pid && (pid == -1 || $0.pid == pid)
            }
            if children.isEmpty {
                throw Errno.child.with(reason: pid == -1 ? "no children" : "\(pid) is not a child of \(parent.pid)")
            }
            for child in children.sorted(by: { $0.pid < $1.pid }) {
                if case .zombie(let status) = child.state {
                    self.processes[child.pid] = nil
                    return .some((child.pid, status))
                }
            }
            return noHang ? .some(nil) : nil
        }
        if noHang { return try lock.withLock(attempt) ?? nil }
        return try thread.wait(on: [WaitInterest(childEnded, .readable)]) { () throws(Errno) in try lock.withLock(attempt) }
    }
}
