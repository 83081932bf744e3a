import LibOS

/// The PAL's checks of the one LibOS instance of this process.
///
/// Every call but `cloister_pal_init` checks ``LibOS/isInitialized`` before its arguments, so a
/// call before `cloister_pal_init` is `EAGAIN` whatever its arguments, and `cloister_pal_init`
/// checks it first so that a second one is `EEXIST` whatever its attributes. The LibOS checks
/// again under its own lock: two racing inits give one success and one `EEXIST`, and a call
/// racing with `destroy` gets `EAGAIN`.
enum PALInstance {
    /// Throws `EAGAIN` unless the instance is initialized.
    static func requireInitialized() throws(Errno) {
        guard LibOS.isInitialized else { throw Errno.again.with(reason: "the LibOS is not initialized") }
    }

    /// Throws `EEXIST` when the instance is already initialized.
    static func requireUninitialized() throws(Errno) {
        if LibOS.isInitialized { throw Errno.exist.with(reason: "a LibOS instance is already initialized") }
    }
}
