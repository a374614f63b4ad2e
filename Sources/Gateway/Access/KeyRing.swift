import Digests
import Foundation
import HTTPCore
import Logging
import Synchronization

/// The keys in force, from the keys file, re-read when it changes: its stamp is checked at most
/// once a second (on the request that finds a second has passed), or at once by `reload`
/// (SIGHUP). A file that cannot be read or is not valid keeps the last good keys, and says why
/// in the log once per change. Revoking a key thus takes effect within about a second.
public final class KeyRing: Sendable {
    public let path: String
    private let logger: Logger
    private let checkInterval: UInt64

    private struct State {
        var keys: [ActiveKey]
        var stamp: FileStamp?
        /// Monotonic nanoseconds of the last look at the stamp.
        var checked: UInt64
        /// A look is under way (outside the lock): others use the keys they have.
        var checking = false
    }

    private let state: Mutex<State>

    /// Reads the file; a file that cannot be read or is not valid is an error here (the
    /// gateway does not start with keys it does not know).
    public init(path: String, logger: Logger, checkInterval: Duration = .seconds(1)) throws(KeysFile.Failure) {
        self.path = path
        self.logger = logger
        self.checkInterval = MonotonicClock.nanoseconds(checkInterval)
        let stamp = FileStamp(path: path)
        let file = try KeysFile.read(path: path)
        state = Mutex(State(keys: file.keys.compactMap(ActiveKey.init), stamp: stamp, checked: MonotonicClock.now()))
    }

    /// The keys in force now (looking at the file first when a second has passed).
    public var keys: [ActiveKey] {
        refreshIfDue()
        return state.withLock { $0.keys }
    }

    /// The key whose hash is the presented key's, compared in constant time against every key in
    /// force (no early exit, no lookup by value): how long it takes says nothing of the keys.
    public func authenticate(_ presented: String) -> ActiveKey? {
        let hash = SHA256.digest(Array(presented.utf8))
        var found: ActiveKey?
        for key in keys where Self.constantTimeEqual(key.hash, hash) && found == nil { found = key }
        return found
    }

    /// Equal 32-byte hashes, in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Reads the file now (SIGHUP), whatever its stamp says.
    public func reload() { refresh(force: true) }

    private func refreshIfDue() {
        let now = MonotonicClock.now()
        let due = state.withLock { s -> Bool in
            guard !s.checking, now &- s.checked >= checkInterval else { return false }
            s.checking = true
            s.checked = now
            return true
        }
        if due { refresh(force: false, claimed: true) }
    }

    /// Looks at the stamp (and reads the file when it changed) outside the lock, then swaps.
    private func refresh(force: Bool, claimed: Bool = false) {
        if !claimed { state.withLock { $0.checking = true } }
        let stamp = FileStamp(path: path)
        let known = state.withLock { $0.stamp }
        // A stamp within the file system's granularity may hide a second write: read again.
        let unchanged =
            stamp != nil && stamp == known
            && !stamp!.isRecent(nowWallNanoseconds: FileStamp.wallClockNanoseconds())
        guard force || !unchanged else {
            state.withLock { $0.checking = false }
            return
        }
        do {
            let file = try KeysFile.read(path: path)
            let keys = file.keys.compactMap(ActiveKey.init)
            let before = state.withLock { s -> [ActiveKey] in
                defer { (s.keys, s.stamp, s.checking) = (keys, stamp, false) }
                return s.keys
            }
            if before != keys {
                logger.notice("keys file \(path) read again: \(keys.count) key(s) in force")
            }
        } catch {
            // Logged once per change of the file: the stamp is kept, so the same broken file is not read again.
            let changed = state.withLock { s -> Bool in
                defer { (s.stamp, s.checking) = (stamp, false) }
                return s.stamp != stamp || force
            }
            let kept = state.withLock { $0.keys.count }
            if changed { logger.error("\(error.description); keeping the \(kept) key(s) read before") }
        }
    }
}
