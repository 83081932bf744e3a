import CLibOSHost

/// Starts detached host threads for guest threads that are not the caller's own.
enum HostThread {
    /// The host stack of a thread that runs a guest (WasmKit keeps the guest's own stack apart).
    static let stackSize = 8 << 20

    private final class Body {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Runs `body` on a new detached host thread. Throws `EAGAIN` when the host refuses.
    static func start(_ body: @escaping () -> Void) throws(Errno) {
        let context = Unmanaged.passRetained(Body(body)).toOpaque()
        let result = cloister_host_thread_start({ context in
            Unmanaged<Body>.fromOpaque(context!).takeRetainedValue().run()
        }, context, UInt(stackSize))
        if result != 0 {
            Unmanaged<Body>.fromOpaque(context).release()
            throw Errno.again.with(reason: "the host could not start a thread (error \(result))")
        }
    }
}
