import LibOS
import Synchronization

/// The PAL's view of the one LibOS instance of this process: whether it is initialized.
///
/// `initialize` and `destroy` are serialized, so two racing `cloister_pal_init` calls give one
/// success and one `EEXIST`. Every other call checks ``isInitialized`` first, so a call before
/// `cloister_pal_init` is `EAGAIN` whatever its arguments. The flag is read without waiting for
/// a `destroy` in progress (which may take seconds), so `cloister_pal_kill` stays prompt; the
/// LibOS checks again under its own lock, so a call racing with `destroy` gets `EAGAIN`.
enum PALInstance {
    private static let lifecycle = Mutex(())
    private static let initialized = Atomic(false)

    /// Whether `cloister_pal_init` has succeeded and `cloister_pal_destroy` has not since.
    static var isInitialized: Bool { initialized.load(ordering: .acquiring) }

    /// Throws `EAGAIN` unless the instance is initialized.
    static func requireInitialized() throws(Errno) {
        guard isInitialized else { throw Errno.again.with(reason: "the LibOS is not initialized") }
    }

    /// Throws `EEXIST` when the instance is already initialized.
    static func requireUninitialized() throws(Errno) {
        if isInitialized { throw Errno.exist.with(reason: "a LibOS instance is already initialized") }
    }

    /// Starts the instance; `EEXIST` when one is already running.
    static func initialize(instance: String, logLevel: String) throws(Errno) {
        try lifecycle.withLock { (_: inout Void) throws(Errno) in
            try requireUninitialized()
            try LibOS.initialize(instance: instance, logLevel: logLevel)
            initialized.store(true, ordering: .releasing)
        }
    }

    /// Ends the instance; `EAGAIN` when there is none, `EBUSY` when a process would not stop.
    static func destroy() throws(Errno) {
        try lifecycle.withLock { (_: inout Void) throws(Errno) in
            try requireInitialized()
            try LibOS.destroy()
            initialized.store(false, ordering: .releasing)
        }
    }
}
