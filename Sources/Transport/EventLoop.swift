import CEpoll
import Foundation
import HTTPCore
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Something registered with an event loop for readiness events on one file descriptor.
/// It is only ever called on its loop's thread.
package protocol EventLoopHandler: AnyObject {
    func handleEvents(_ events: UInt32)
    /// The loop is exiting with this handler still registered: whoever waits on it must be told
    /// (a pending exchange fails rather than waits forever).
    func loopStopped()
}

extension EventLoopHandler {
    package func loopStopped() {}
}

/// One thread running epoll. Everything registered with a loop is touched only on that thread;
/// other threads hand it work with `execute`, which wakes it through an eventfd.
/// `@unchecked Sendable`: the mutable state is either confined to the loop's thread or behind `pending`.
package final class EventLoop: @unchecked Sendable {
    package let index: Int
    package let name: String
    private let epollFD: Int32
    private let wakeFD: Int32
    private var handlers: [Int32: EventLoopHandler] = [:]
    private let pending = Mutex(Pending())
    /// Work handed over after the loop's thread ended runs on the caller's thread, one at a time.
    private let afterExit = NSLock()

    private struct Pending {
        var tasks: [@Sendable () -> Void] = []
        var running = true
        var exited = false
    }
    private var thread: Thread?
    private var ownerThread: pthread_t?
    private let exited = DispatchSemaphore(value: 0)

    /// Called on the loop about every `tickInterval` (timeouts, cached Date header).
    /// One read buffer per loop, shared by everything registered with it: reads never
    /// interleave on a loop, and what is read is decoded before the next read.
    package let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)

    package var onTick: (() -> Void)?
    package let tickInterval: UInt64
    private var nextTick: UInt64 = 0

    private static let wakeToken = UInt64.max

    /// Timers by id, and their ids in deadline order (a cancelled timer leaves its entry in
    /// `timerOrder` until it comes up).
    private var timers: [UInt64: (deadline: UInt64, task: () -> Void)] = [:]
    private var timerOrder = MinHeap<UInt64, UInt64>()
    private var lastTimerID: UInt64 = 0

    package init(index: Int, name: String = "http-loop", tickInterval: Duration = .seconds(1)) throws {
        self.index = index
        self.name = name
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
        readBuffer.deallocate()
    }

    package func start() {
        let thread = Thread { [self] in run() }
        thread.name = "\(name)-\(index)"
        self.thread = thread
        thread.start()
    }

    package var inLoop: Bool {
        guard let ownerThread else { return false }
        return pthread_equal(pthread_self(), ownerThread) != 0
    }

    /// Runs `task` on the loop's thread, soon. Safe from any thread.
    /// After the loop has exited it runs at once on the caller's thread (closing what is left
    /// then still works; nothing waits on a loop that will never run again).
    package func execute(_ task: @escaping @Sendable () -> Void) {
        let (queued, needsWake) = pending.withLock { state -> (Bool, Bool) in
            if state.exited { return (false, false) }
            state.tasks.append(task)
            return (true, state.tasks.count == 1)
        }
        guard queued else {
            afterExit.withLock { task() }
            return
        }
        // One wake-up per batch: the loop drains every queued task when it wakes.
        if needsWake { _ = cepoll_eventfd_signal(wakeFD) }
    }

    /// Runs `body` on the loop and waits for its result: for set-up from another thread (never
    /// from a task: it blocks the caller). On the loop's own thread it runs at once.
    package func runAndWait<T>(_ body: @escaping () throws -> T) throws -> T {
        if inLoop || ownerThread == nil && thread == nil { return try body() }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, any Error>?
        nonisolated(unsafe) let work = body
        execute {
            result = Result { try work() }
            done.signal()
        }
        done.wait()
        return try result!.get()
    }

    /// Asks the loop to exit after the current iteration; `waitUntilStopped` blocks until it has.
    package func stop() {
        pending.withLock { $0.running = false }
        _ = cepoll_eventfd_signal(wakeFD)
    }

    package func waitUntilStopped() { exited.wait() }

    // MARK: registration (loop thread only)

    package func register(fd: Int32, events: UInt32, handler: EventLoopHandler) throws {
        assertInLoop()
        guard cepoll_ctl(epollFD, CEPOLL_CTL_ADD, fd, events, UInt64(fd)) == 0 else {
            throw SocketError("epoll_ctl(add)")
        }
        handlers[fd] = handler
    }

    package func modify(fd: Int32, events: UInt32) {
        assertInLoop()
        _ = cepoll_ctl(epollFD, CEPOLL_CTL_MOD, fd, events, UInt64(fd))
    }

    /// Forgets `fd`. The caller closes it afterwards (closing also removes it from epoll).
    package func deregister(fd: Int32) {
        assertInLoop()
        _ = cepoll_ctl(epollFD, CEPOLL_CTL_DEL, fd, 0, 0)
        handlers[fd] = nil
    }

    /// Thread confinement, checked in debug builds: everything registered with a loop, and the
    /// loop's registration and timer calls, belong to its thread (before `start`, to whoever
    /// builds it).
    @inline(__always)
    package func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(ownerThread == nil || inLoop, "called off its event loop's thread", file: file, line: line)
    }

    // MARK: timers (loop thread only)

    /// Runs `task` on the loop once the monotonic clock reaches `deadline` (nanoseconds), unless
    /// cancelled first. Returns the id to cancel it with.
    @discardableResult
    package func schedule(at deadline: UInt64, _ task: @escaping () -> Void) -> UInt64 {
        assertInLoop()
        lastTimerID += 1
        timers[lastTimerID] = (deadline, task)
        timerOrder.insert(deadline, lastTimerID)
        return lastTimerID
    }

    package func cancelTimer(_ id: UInt64) {
        assertInLoop()
        timers[id] = nil
    }

    /// Runs the timers that are due; the earliest deadline still pending, if any.
    private func runDueTimers(now: UInt64) -> UInt64? {
        while let (deadline, id) = timerOrder.first {
            guard timers[id] != nil else {
                timerOrder.removeFirst()
                continue
            }
            if deadline > now { return deadline }
            timerOrder.removeFirst()
            if let timer = timers.removeValue(forKey: id) { timer.task() }
        }
        return nil
    }

    // MARK: the loop

    private func run() {
        ownerThread = pthread_self()
        var events = [cepoll_event](repeating: cepoll_event(), count: 256)
        nextTick = MonotonicClock.now() + tickInterval
        var nextTimer: UInt64?
        while true {
            let now = MonotonicClock.now()
            let wake = min(nextTick, nextTimer ?? .max)
            let timeoutMS = now >= wake ? 0 : Int32(min((wake - now) / 1_000_000 + 1, 60_000))
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
            nextTimer = runDueTimers(now: MonotonicClock.now())
            if MonotonicClock.now() >= nextTick {
                nextTick = MonotonicClock.now() + tickInterval
                onTick?()
            }
        }
        // Tell what is still registered, then run what was queued meanwhile; later work runs
        // on its caller's thread (see `execute`).
        for handler in Array(handlers.values) { handler.loopStopped() }
        handlers.removeAll()
        timers.removeAll()
        let leftover = pending.withLock { state in
            state.exited = true
            defer { state.tasks.removeAll() }
            return state.tasks
        }
        ownerThread = nil
        afterExit.withLock { for task in leftover { task() } }
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
