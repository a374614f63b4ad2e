import CEpoll
import Transport

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket on one event loop: accepts every pending connection when readable.
final class HTTPListener: EventLoopHandler {
    let fd: Int32
    private unowned let owner: HTTPServerLoop
    private var paused = false
    private var stopped = false

    init(fd: Int32, owner: HTTPServerLoop) {
        self.fd = fd
        self.owner = owner
    }

    func start() throws {
        try owner.loop.register(fd: fd, events: CEPOLL_IN, handler: self)
    }

    func handleEvents(_ events: UInt32) {
        owner.loop.assertInLoop()
        while !stopped {
            do {
                guard let (connection, peer) = try Socket.accept(fd) else { return }
                owner.accepted(fd: connection, peer: peer)
            } catch let error as SocketError where error.code == EMFILE || error.code == ENFILE {
                // Out of descriptors: a level-triggered listener would spin, so rest until the next tick.
                owner.metrics.connectionsRejected.add(1, ordering: .relaxed)
                owner.logger.warning("accept: out of file descriptors; pausing accepts for a second")
                owner.loop.deregister(fd: fd)
                paused = true
                return
            } catch {
                owner.logger.warning("\(error)")
                return
            }
        }
    }

    func resumeIfPaused() {
        guard paused, !stopped else { return }
        paused = false
        try? start()
    }

    func stop() {
        guard !stopped else { return }
        stopped = true
        if !paused { owner.loop.deregister(fd: fd) }
        close(fd)
    }
}
