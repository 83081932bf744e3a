import CCloisterABI

/// The AF_UNIX names of one instance: a namespace of its own, not files of its VFS (a name
/// never appears in a directory, and a guest needs no writable folder to bind one). A name is
/// taken by `bind` and freed when its socket is closed.
final class UnixNamespace: @unchecked Sendable {
    private let lock = KernelLock()
    private var sockets: [String: UnixSocket] = [:]
    /// What a connection's two byte queues are charged to.
    let budget: MemoryBudget

    init(budget: MemoryBudget) { self.budget = budget }

    func bind(_ name: String, to socket: UnixSocket) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            if sockets[name] != nil { throw Errno.addrinuse.with(reason: "the AF_UNIX name \(name) is taken") }
            sockets[name] = socket
        }
    }

    func unbind(_ name: String, from socket: UnixSocket) {
        lock.withLock { if sockets[name] === socket { sockets[name] = nil } }
    }

    func socket(named name: String) -> UnixSocket? { lock.withLock { sockets[name] } }
}

/// An AF_UNIX stream socket, living inside the LibOS between its processes (Occlum's and
/// gVisor's in-kernel unix sockets): a connection is two ``Pipe`` byte queues, one each way,
/// whose every change notifies both sockets' waiter queues, so reads, writes, accept and
/// `poll_oneoff` wait through the one readiness model. Shutting down a direction closes that
/// queue's end: the peer reads end-of-file, or a write fails with `EPIPE` (and SIGPIPE unless
/// `MSG_NOSIGNAL`), as on Linux.
final class UnixSocket: Socket, @unchecked Sendable {
    var domain: SocketDomain { .unix }
    var kind: SocketKind { .stream }
    let waiterQueue: WaiterQueue
    private let namespace: UnixNamespace
    private let lock = KernelLock()

    private enum State {
        case fresh
        case listening(backlog: Int)
        case connected(incoming: Pipe, outgoing: Pipe)
        case closed
    }
    private var state = State.fresh
    /// The name bound (or, for an accepted socket, its listener's).
    private var name: String?
    private var peerName: String?
    /// Accepted sockets waiting for `accept`, oldest first.
    private var pending: [UnixSocket] = []
    private var isReadShut = false
    private var isWriteShut = false
    /// Options a guest may set and read back; the kernel does nothing with them.
    private var storedOptions: [SocketOption: Int32] = [.reuseAddress: 0, .keepAlive: 0]

    init(namespace: UnixNamespace) {
        self.namespace = namespace
        self.waiterQueue = WaiterQueue()
    }

    /// The server side of a new connection, waiting on `queue`.
    private init(namespace: UnixNamespace, queue: WaiterQueue, name: String?, peerName: String?, incoming: Pipe, outgoing: Pipe) {
        self.namespace = namespace
        self.waiterQueue = queue
        self.name = name
        self.peerName = peerName
        self.state = .connected(incoming: incoming, outgoing: outgoing)
    }

    private func unixName(_ address: SocketAddress) throws(Errno) -> String {
        guard case .unix(let name) = address else { throw Errno.afnosupport.with(reason: "an IP address for an AF_UNIX socket") }
        return name
    }

    private var connection: (incoming: Pipe, outgoing: Pipe)? {
        lock.withLock {
            if case .connected(let incoming, let outgoing) = state { return (incoming, outgoing) }
            return nil
        }
    }

    // MARK: Addresses and connections

    func bind(_ address: SocketAddress) throws(Errno) {
        let wanted = try unixName(address)
        try lock.withLock { () throws(Errno) in
            guard case .fresh = state, name == nil else { throw Errno.inval.with(reason: "the socket is already bound") }
            try namespace.bind(wanted, to: self)
            name = wanted
        }
    }

    func listen(backlog: Int) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            switch state {
            case .fresh, .listening:
                guard name != nil else { throw Errno.inval.with(reason: "listen on an AF_UNIX socket that is not bound") }
                state = .listening(backlog: min(max(backlog, 1), 4096))
            default:
                throw Errno.inval.with(reason: "listen on a connected socket")
            }
        }
    }

    /// Queues `server` for `accept`: `ECONNREFUSED` unless listening, `EAGAIN` when the backlog is full.
    private func enqueue(_ server: UnixSocket) throws(Errno) {
        try lock.withLock { () throws(Errno) in
            guard case .listening(let backlog) = state else { throw Errno.connrefused.with(reason: "no socket listens at \(name ?? "")") }
            if pending.count >= backlog { throw Errno.again.with(reason: "the listener's backlog of \(backlog) is full") }
            pending.append(server)
        }
        waiterQueue.notify(.readable)
    }

    func accept(waits: Bool) throws(Errno) -> (socket: any Socket, peer: SocketAddress) {
        let attempt = { () throws(Errno) -> UnixSocket? in
            try self.lock.withLock { () throws(Errno) -> UnixSocket? in
                guard case .listening = self.state else { throw Errno.inval.with(reason: "accept on a socket that does not listen") }
                return self.pending.isEmpty ? nil : self.pending.removeFirst()
            }
        }
        let socket: UnixSocket
        if waits {
            socket = try Blocking.wait(on: [WaitInterest(waiterQueue, .readable)], attempt)
        } else {
            guard let ready = try attempt() else { throw Errno.again }
            socket = ready
        }
        return (socket, .unix(socket.peerName ?? ""))
    }

    /// Connects at once (AF_UNIX needs no handshake): the listener's accept finds the other side.
    func connect(_ address: SocketAddress, waits: Bool) throws(Errno) {
        let target = try unixName(address)
        try lock.withLock { () throws(Errno) in
            switch state {
            case .fresh: break
            case .connected: throw Errno.isconn
            default: throw Errno.inval.with(reason: "connect on a listening socket")
            }
            guard let listener = namespace.socket(named: target) else {
                throw Errno.noent.with(reason: "no AF_UNIX socket is named \(target)")
            }
            // Its own name: it is not listening (its lock is held here).
            if listener === self { throw Errno.connrefused.with(reason: "no socket listens at \(target)") }
            let serverQueue = WaiterQueue()
            let toServer = try Pipe(budget: namespace.budget, queues: [serverQueue, waiterQueue])
            let toClient = try Pipe(budget: namespace.budget, queues: [waiterQueue, serverQueue])
            let server = UnixSocket(
                namespace: namespace, queue: serverQueue, name: target, peerName: name, incoming: toServer, outgoing: toClient)
            try listener.enqueue(server)
            peerName = target
            state = .connected(incoming: toClient, outgoing: toServer)
        }
        waiterQueue.notify(.writable)
    }

    func localAddress() throws(Errno) -> SocketAddress { .unix(lock.withLock { name } ?? "") }

    func peerAddress() throws(Errno) -> SocketAddress {
        guard connection != nil else { throw Errno.notconn }
        return .unix(lock.withLock { peerName } ?? "")
    }

    func shutdown(_ directions: ShutdownDirections) throws(Errno) {
        guard let (incoming, outgoing) = connection else { throw Errno.notconn }
        let (read, write) = lock.withLock { () -> (Bool, Bool) in
            let read = directions.contains(.read) && !isReadShut
            let write = directions.contains(.write) && !isWriteShut
            isReadShut = isReadShut || read
            isWriteShut = isWriteShut || write
            return (read, write)
        }
        if read { incoming.closeReadEnd() }
        if write { outgoing.closeWriteEnd() }
    }

    func close() {
        let (previous, pendingSockets, boundName) = lock.withLock { () -> (State, [UnixSocket], String?) in
            defer {
                state = .closed
                pending = []
            }
            return (state, pending, name)
        }
        switch previous {
        case .connected(let incoming, let outgoing):
            let (read, write) = lock.withLock { () -> (Bool, Bool) in
                defer {
                    isReadShut = true
                    isWriteShut = true
                }
                return (!isReadShut, !isWriteShut)
            }
            if read { incoming.closeReadEnd() }
            if write { outgoing.closeWriteEnd() }
        case .listening:
            // Connections nobody accepted end: their clients read end-of-file.
            for socket in pendingSockets { socket.close() }
        default:
            break
        }
        // An accepted socket carries its listener's name, which the namespace does not give it.
        if let boundName { namespace.unbind(boundName, from: self) }
        waiterQueue.notify([.error, .hangUp])
    }

    // MARK: Transfers

    func send(_ buffers: IOVectors, to destination: SocketAddress?, flags: MessageFlags, waits: Bool) throws(Errno) -> Int {
        if destination != nil { throw Errno.isconn.with(reason: "a destination for a stream socket") }
        guard let (_, outgoing) = connection else { throw Errno.notconn }
        var sent = 0
        for buffer in buffers.buffers where !buffer.isEmpty {
            do {
                let count = try outgoing.send(
                    UnsafeRawBufferPointer(buffer), waits: waits, raisesSignal: !flags.contains(.noSignal), on: waiterQueue)
                sent += count
                if count < buffer.count { break }
            } catch {
                if sent > 0 && (error == .again || error == .intr) { return sent }
                throw error
            }
        }
        return sent
    }

    func receive(into buffers: IOVectors, flags: MessageFlags, waits: Bool) throws(Errno) -> Received {
        guard let (incoming, _) = connection else { throw Errno.notconn }
        let peek = flags.contains(.peek)
        let fills = flags.contains(.waitAll) && !peek && waits
        var remaining = buffers
        var total = 0
        while true {
            let count: Int
            do {
                count = try incoming.receive(into: remaining.buffers, peek: peek, waits: waits, on: waiterQueue)
            } catch {
                if total > 0 && (error == .again || error == .intr) { break }
                throw error
            }
            total += count
            remaining.advance(by: count)
            if !fills || count == 0 || remaining.totalLength == 0 { break }
        }
        return Received(count: total, truncated: false, sender: nil)
    }

    // MARK: Readiness

    func readiness(_ mask: Events) -> Events {
        let (listening, hasPending, pipes) = lock.withLock { () -> (Bool, Bool, (Pipe, Pipe)?) in
            switch state {
            case .listening: return (true, !pending.isEmpty, nil)
            case .connected(let incoming, let outgoing): return (false, false, (incoming, outgoing))
            case .closed: return (false, false, nil)
            case .fresh: return (false, false, nil)
            }
        }
        var ready: Events = []
        if listening {
            if hasPending { ready.insert(.readable) }
        } else if let (incoming, outgoing) = pipes {
            let reading = incoming.readEndReadiness
            // End-of-file is readable: a read answers 0 at once.
            if reading.contains(.readable) || reading.contains(.hangUp) { ready.insert(.readable) }
            if reading.contains(.hangUp) { ready.insert(.hangUp) }
            let writing = outgoing.writeEndReadiness
            if writing.contains(.writable) { ready.insert(.writable) }
            if writing.contains(.error) { ready.insert(.error) }
        } else if case .closed = lock.withLock({ state }) {
            ready = .unmaskable
        }
        return ready.intersection(mask.withUnmaskable)
    }

    func readableBytes() -> UInt64? { connection.map { UInt64($0.incoming.readableBytes) } }

    // MARK: Options

    func option(_ option: SocketOption) throws(Errno) -> Int32 {
        switch option {
        case .type: return kind.rawValue
        case .error: return 0
        case .acceptsConnections:
            return lock.withLock { if case .listening = state { return 1 } else { return 0 } }
        case .sendBuffer, .receiveBuffer: return Int32(Pipe.capacity)
        case .noDelay: throw Errno.noprotoopt.with(reason: "TCP_NODELAY on an AF_UNIX socket")
        case .reuseAddress, .keepAlive: return lock.withLock { storedOptions[option] ?? 0 }
        }
    }

    func setOption(_ option: SocketOption, to value: Int32) throws(Errno) {
        switch option {
        case .type, .error, .acceptsConnections: throw Errno.noprotoopt.with(reason: "\(option) is read-only")
        case .noDelay: throw Errno.noprotoopt.with(reason: "TCP_NODELAY on an AF_UNIX socket")
        // The byte queues have a fixed capacity (a pipe's); a size is accepted and changes nothing.
        case .sendBuffer, .receiveBuffer: return
        case .reuseAddress, .keepAlive: lock.withLock { storedOptions[option] = value == 0 ? 0 : 1 }
        }
    }
}
