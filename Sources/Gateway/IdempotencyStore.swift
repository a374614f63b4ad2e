import Foundation
import Synchronization

/// Remembers which run an `Idempotency-Key` created, so a retried submission returns the same run
/// instead of enqueuing twice. Entries are kept in a JSON file, so keys survive a restart; they
/// expire after `lifetime` and the store holds at most `capacity` of them (oldest dropped first).
public final class IdempotencyStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        /// A digest of the request the key was first used with (workflow + body).
        public var requestDigest: String
        public var runID: String
        public var created: Date
    }

    /// What a key says about a new submission.
    public enum Verdict: Sendable, Equatable {
        /// Unknown key: go ahead, then `record` the run.
        case new
        /// Same key, same request: answer with this run again.
        case replay(runID: String)
        /// Same key, another request: refuse (422).
        case mismatch(runID: String)
    }

    private let file: URL?
    private let lifetime: TimeInterval
    private let capacity: Int
    private let entries: Mutex<[String: Entry]>

    /// `file` nil keeps the keys in memory only (tests).
    public init(file: URL?, lifetime: TimeInterval = 24 * 3600, capacity: Int = 100_000) {
        self.file = file
        self.lifetime = lifetime
        self.capacity = capacity
        var loaded: [String: Entry] = [:]
        if let file, let data = try? Data(contentsOf: file) {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            loaded = (try? decoder.decode([String: Entry].self, from: data)) ?? [:]
        }
        entries = Mutex(loaded)
    }

    public func check(key: String, requestDigest: String, now: Date = Date()) -> Verdict {
        entries.withLock { entries in
            guard let entry = entries[key], now.timeIntervalSince(entry.created) < lifetime else { return .new }
            return entry.requestDigest == requestDigest ? .replay(runID: entry.runID) : .mismatch(runID: entry.runID)
        }
    }

    public func record(key: String, requestDigest: String, runID: String, now: Date = Date()) throws {
        let snapshot = entries.withLock { entries -> [String: Entry] in
            entries = entries.filter { now.timeIntervalSince($0.value.created) < lifetime }
            if entries.count >= capacity {
                let oldest = entries.sorted { $0.value.created < $1.value.created }.prefix(entries.count - capacity + 1)
                for (key, _) in oldest { entries[key] = nil }
            }
            entries[key] = Entry(requestDigest: requestDigest, runID: runID, created: now)
            return entries
        }
        try save(snapshot)
    }

    /// Writes to a temporary file and renames it over the old one: a crash never leaves half a file.
    private func save(_ snapshot: [String: Entry]) throws {
        guard let file else { return }
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(snapshot).write(to: file, options: .atomic)
    }
}
