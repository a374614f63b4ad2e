import CEpoll
import Foundation
import HTTPCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop for readiness events on one file descriptor.
/// It is only ever called on its loop's thread.
protocol EventLoopHandler: AnyObject {
    func handleEvents(_ events: UInt32)
}

/// One thread running epoll. Everything registered with a loop is touched only on that thread;
/// other threads hand it work with `execute`, which wakes it through an eventfd.
/// `@unchecked Sendable`: the mutable state is either confined to the loop's thread or behind `pending`.
final class EventLoop: @unchecked Sendable {
    let index: Int
    private let epollFD: Int32
    private let wakeFD: Int32
    private var handlers: [Int32: EventLoopHandler] = [:]
    private let pending = Mutex<(tasks: [@Sendable () -> Void], running: Bool)>(([], true))
    private var thread: Thread?
    private var ownerThread: pthread_t?
    private let exited = DispatchSemaphore(value: 0)

    /// Called on the loop about every `tickInterval` (timeouts, cached Date header).
    var onTick: (() -> Void)?
    let tickInterval: UInt64
    private var nextTick: UInt64 = 0

    private static let wakeToken = UInt64.max

    init(index: Int, tickInterval: Duration = .seconds(1)) throws {
        self.index = index
        self.tickInterval = MonotonicClock.nanoseconds(tickInterval)
        epollFD = cepoll_create()
        guard epollFD >= 0 else { throw SocketError("epoll_create1") }
        wakeFD = cepoll_eventfd()
        guard wakeFD >= 0 else {
            close(epollFD)
            throw SocketError("eventfd")
        }
        guard cepoll_ctl(epollFD, CEPOLL_CTL_ADD, wakeFD, CEPOLL_IN, Self.wakeToken) == 0 else {
            close(epollFD)
            close(wakeFD)
            throw SocketError("epoll_ctl(eventfd)")
        }
    }

    deinit {
        close(epollFD)
        close(wakeFD)
    }

    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "http-loop-\(index)"
        self.thread = thread
        thread.start()
    }

    var inLoop: Bool {
        guard let ownerThread else { return false }
        return pthread_equal(pthread_self(), ownerThread) != 0
    }

    /// Runs `task` on the loop's thread, soon. Safe from any thread.
    func execute(_ task: @escaping @Sendable () -> Void) {
        let needsWake = pending.withLock { state -> Bool in
            state.tasks.append(task)
            return state.tasks.count == 1
        }
        // One wake-up per batch: the loop drains every queued task when it wakes.
        if needsWake { _ = cepoll_eventfd_signal(wakeFD) }
    }

    /// Asks the loop to exit after the current iteration; `waitUntilStopped` blocks until it has.
    func stop() {
        pending.withLock { $0.running = false }
        _ = cepoll_eventfd_signal(wakeFD)
    }

    func waitUntilStopped() { exited.wait() }

    // MARK: registration (loop thread only)

    func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws {
        guard cepoll_ctl(epollFD, CEPOLL_CTL_ADD, fd, events, UInt64(fd)) == 0 else {
            throw SocketError("epoll_ctl(add)")
        }
        handlers[fd] = handler
    }

    func modify(fd: Int32, events: UInt32) {
        _ = cepoll_ctl(epollFD, CEPOLL_CTL_MOD, fd, events, UInt64(fd))
    }

    /// Forgets `fd`. The caller closes it afterwards (closing also removes it from epoll).
    func deregister(fd: Int32) {
        _ = cepoll_ctl(epollFD, CEPOLL_CTL_DEL, fd, 0, 0)
        handlers[fd] = nil
    }

    // MARK: the loop

    private func run() {
        ownerThread = pthread_self()
        var events = [cepoll_event](repeating: cepoll_event(), count: 256)
        nextTick = MonotonicClock.now() + tickInterval
        while true {
            let now = MonotonicClock.now()
            let timeoutMS = now >= nextTick ? 0 : Int32(min((nextTick - now) / 1_000_000 + 1, 60_000))
            let count = events.withUnsafeMutableBufferPointer {
                cepoll_wait(epollFD, $0.baseAddress, Int32($0.count), timeoutMS)
            }
            if count > 0 {
                for i in 0..<Int(count) {
                    let event = events[i]
                    if event.token == Self.wakeToken {
                        _ = cepoll_eventfd_drain(wakeFD)
                    } else if let handler = handlers[Int32(truncatingIfNeeded: event.token)] {
                        handler.handleEvents(event.events)
                    }
                }
            }
            guard runPendingTasks() else { break }
            if MonotonicClock.now() >= nextTick {
                nextTick = MonotonicClock.now() + tickInterval
                onTick?()
            }
        }
        handlers.removeAll()
        exited.signal()
    }

    /// Runs everything queued by `execute`; false once the loop was asked to stop.
    private func runPendingTasks() -> Bool {
        while true {
            let (tasks, running) = pending.withLock { state in
                let taken = state.tasks
                state.tasks.removeAll(keepingCapacity: true)
                return (taken, state.running)
            }
            if tasks.isEmpty { return running }
            for task in tasks { task() }
        }
    }
}
