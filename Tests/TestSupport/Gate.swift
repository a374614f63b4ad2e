import Synchronization

/// Holds async callers until opened: lets a test keep an upstream call in flight while it
/// checks who else waits for it.
public final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    public init(open: Bool = false) { state.withLock { $0.open = open } }

    public func pass() async {
        await withCheckedContinuation { continuation in
            let passNow = state.withLock { s -> Bool in
                if s.open { return true }
                s.waiters.append(continuation)
                return false
            }
            if passNow { continuation.resume() }
        }
    }

    public func open() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.open = true
            defer { s.waiters = [] }
            return s.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    public func close() { state.withLock { $0.open = false } }

    public var waiting: Int { state.withLock { $0.waiters.count } }
}
