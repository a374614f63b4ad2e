import Synchronization

/// A fixed set of event loops, handed out round-robin. The server's connections and the
/// upstream clients' connections share one group: one I/O model, a thread per core.
package final class EventLoopGroup: Sendable {
    package let loops: [EventLoop]
    private let nextIndex = Atomic<Int>(0)
    private let phase = Mutex(Phase.created)

    private enum Phase { case created, running, stopped }

    package init(count: Int, name: String) throws {
        loops = try (0..<max(1, count)).map { try EventLoop(index: $0, name: name) }
    }

    /// Starts every loop's thread (once; `next` does it too, so work is never queued on a loop
    /// that does not run).
    package func start() {
        let first = phase.withLock { phase in
            defer { if phase == .created { phase = .running } }
            return phase == .created
        }
        if first { loops.forEach { $0.start() } }
    }

    /// The next loop in turn.
    package func next() -> EventLoop {
        start()
        return loops[nextIndex.add(1, ordering: .relaxed).oldValue % loops.count]
    }

    /// Whether `stop` was called: work handed to a loop now would never run.
    package var isStopped: Bool { phase.withLock { $0 == .stopped } }

    /// Stops every loop and waits for their threads to end.
    package func stop() {
        let wasRunning = phase.withLock { phase in
            defer { phase = .stopped }
            return phase == .running
        }
        guard wasRunning else { return }
        loops.forEach { $0.stop() }
        loops.forEach { $0.waitUntilStopped() }
    }

    /// The loops of clients built without a group of their own: one thread, started on first
    /// use, living as long as the process (tests and tools; the gateway passes its own group).
    package static let shared: EventLoopGroup = {
        // An eventfd and an epoll descriptor: only failing when the process is out of them.
        guard let group = try? EventLoopGroup(count: 1, name: "client-loop") else {
            fatalError("cannot create the shared event loop (out of file descriptors?)")
        }
        group.start()
        return group
    }()
}
