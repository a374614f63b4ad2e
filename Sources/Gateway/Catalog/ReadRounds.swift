/// Reads done one at a time and shared by everyone who needs one (the catalog's folder scans
/// and library reads). They are numbered as they start, so a caller can ask for one that
/// started after it asked. Lives inside the catalog's state, under its lock; the reads
/// themselves run outside it.
struct ReadRounds {
    enum Step: Sendable {
        /// A read the caller asked for has ended.
        case done
        /// None is running: the caller does read number n, then calls `end(n)`.
        case read(Int)
        /// The read the caller waited for ended: look again.
        case again
    }

    private(set) var started = 0
    private(set) var finished = 0
    private(set) var running = false
    private var waiting: [CheckedContinuation<Step, Never>] = []

    /// What a caller that needs a read numbered above `ticket` does now; nil: wait, `continuation`
    /// is resumed when the running read ends.
    mutating func next(after ticket: Int, _ continuation: CheckedContinuation<Step, Never>) -> Step? {
        if finished > ticket { return .done }
        if let number = begin() { return .read(number) }
        waiting.append(continuation)
        return nil
    }

    /// Starts a read, when none is running; its number.
    mutating func begin() -> Int? {
        guard !running else { return nil }
        running = true
        started += 1
        return started
    }

    /// Read `number` ended: the callers waiting, to be resumed (outside the lock) with `.again`.
    mutating func end(_ number: Int) -> [CheckedContinuation<Step, Never>] {
        running = false
        finished = max(finished, number)
        defer { waiting = [] }
        return waiting
    }
}
