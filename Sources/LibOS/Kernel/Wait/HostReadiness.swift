#if canImport(Glibc)
import Glibc
#endif

/// What a host descriptor is ready for now: one zero-timeout `poll(2)`, the readiness check of
/// every description that wraps a host descriptor (host streams, host sockets). POLLIN is
/// readable, POLLOUT writable, POLLERR and POLLNVAL error, POLLHUP hang-up.
enum HostReadiness {
    static func of(_ fd: Int32, _ mask: Events) -> Events {
        var requested: Int16 = 0
        if mask.contains(.readable) { requested |= Int16(POLLIN) }
        if mask.contains(.writable) { requested |= Int16(POLLOUT) }
        var request = pollfd(fd: fd, events: requested, revents: 0)
        guard poll(&request, 1, 0) > 0 else { return [] }
        var ready: Events = []
        if request.revents & Int16(POLLIN) != 0 { ready.insert(.readable) }
        if request.revents & Int16(POLLOUT) != 0 { ready.insert(.writable) }
        if request.revents & Int16(POLLERR | POLLNVAL) != 0 { ready.insert(.error) }
        if request.revents & Int16(POLLHUP) != 0 { ready.insert(.hangUp) }
        return ready.intersection(mask.withUnmaskable)
    }
}
