import Digests
import Foundation
import InvokeAI
import Synchronization

/// What makes a keyed submission happen at most once, whatever order retries, crashes and
/// restarts come in:
///
/// - A key names its run's batch: the batch id is a hash of the gateway's destination and the
///   key (`batchID(for:)`), so InvokeAI's own queue records whether the key's run exists, for
///   every gateway process and across crashes. A keyed submission asks InvokeAI for that
///   batch before it enqueues.
/// - Requests with one key take turns (`withKey`): concurrent retries make one run.
/// - The request's digest is written ahead of the enqueue, so a retry with another body is
///   refused (422) even when the first attempt crashed after enqueueing.
///
/// Digests are kept in an append-only file (one JSON line per new key; compacted when
/// superseded lines outnumber live ones), so a request costs one appended line whatever the
/// number of keys. They expire after `lifetime` and at most `capacity` are kept (oldest first);
/// the key's batch id stays bound to its run for as long as InvokeAI keeps that batch.
public final class IdempotencyStore: Sendable {
    public struct Entry: Codable, Sendable, Equatable {
        /// A digest of the request the key was first used with (workflow + body).
        public var requestDigest: String
        public var created: Date
        /// The run of a key recorded by a gateway before batch ids were derived from keys.
        public var legacyRunID: String?
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order they were written (for capacity), with holes for removed ones.
        var order: [String] = []
        var linesInFile = 0
        /// Keys a request holds now, and who waits for each.
        var busy: [String: [CheckedContinuation<Void, Never>]] = [:]
    }

    private let file: URL?
    private let destination: String
    private let lifetime: TimeInterval
    private let capacity: Int
    private let state: Mutex<State>
    /// Held across a change and its write, so an append never lands under a compaction.
    private let writing = Mutex(())
    /// Why the file of keys could not be read, when it could not: the keys in it are not known.
    public let loadFailure: String?

    /// `file` nil keeps the digests in memory only (tests).
    public init(
        file: URL?, destination: String = "invokeai-gateway", lifetime: TimeInterval = 24 * 3600,
        capacity: Int = 100_000
    ) {
        self.file = file
        self.destination = destination
        self.lifetime = lifetime
        self.capacity = max(1, capacity)
        var loaded = State()
        var text: String?
        var failure: String?
        // No file yet is a first start. One that cannot be read is said in `loadFailure`: the
        // gateway refuses to start rather than forget keys and enqueue a retried request again.
        if let file, FileManager.default.fileExists(atPath: file.path) {
            do {
                text = try String(contentsOf: file, encoding: .utf8)
            } catch {
                failure = "the idempotency keys in \(file.path) could not be read: \(error)"
            }
        }
        if let text {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            for line in text.split(separator: "\n") {
                loaded.linesInFile += 1
                // A torn last line (a crash mid-append) is skipped.
                guard let record = try? decoder.decode(Line.self, from: Data(line.utf8)) else { continue }
                if loaded.entries.updateValue(
                    Entry(requestDigest: record.d, created: record.t, legacyRunID: record.r), forKey: record.k) == nil
                {
                    loaded.order.append(record.k)
                }
            }
        }
        state = Mutex(loaded)
        loadFailure = failure
        if let file, failure == nil { migrateLegacyFile(next: file) }
    }

    /// One line of the file.
    private struct Line: Codable {
        var k: String
        var d: String
        var t: Date
        /// Only for keys carried over from the old whole-file format (their runs have random ids).
        var r: String?
    }

    /// Keys of the earlier format (`idempotency-keys.json`, one JSON object rewritten per key)
    /// are carried over with their runs, so an upgrade never makes a retry enqueue again.
    private func migrateLegacyFile(next file: URL) {
        struct Legacy: Decodable { var requestDigest: String; var runID: String; var created: Date }
        let old = file.deletingLastPathComponent().appendingPathComponent("idempotency-keys.json")
        guard FileManager.default.fileExists(atPath: old.path) else { return } // nothing to carry over
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        do {
            let legacy = try decoder.decode([String: Legacy].self, from: try Data(contentsOf: old))
            for (key, entry) in legacy.sorted(by: { $0.value.created < $1.value.created }) {
                let fresh = state.withLock { s -> Bool in
                    guard s.entries[key] == nil else { return false }
                    s.entries[key] = Entry(
                        requestDigest: entry.requestDigest, created: entry.created, legacyRunID: entry.runID)
                    s.order.append(key)
                    s.linesInFile += 1
                    return true
                }
                if fresh { try append(file, Line(k: key, d: entry.requestDigest, t: entry.created, r: entry.runID)) }
            }
            try FileManager.default.removeItem(at: old)
        } catch {
            // The old file stays; the next start tries again (lines already carried over are known).
        }
    }

    /// The batch id a key's run gets: `idem-` and 32 hex digits of SHA-1(destination, key); a key
    /// carried over from the old format keeps the run it made.
    public func batchID(for key: String) -> String {
        if let legacy = state.withLock({ $0.entries[key]?.legacyRunID }) { return legacy }
        let digest = SHA1.digest(Array("\(destination)\n\(key)".utf8))
        return "idem-" + digest.prefix(16).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// Runs `body` while no other request holds `key`; requests with the same key wait their turn.
    public func withKey<T: Sendable>(_ key: String, _ body: () async throws -> T) async throws -> T {
        await acquire(key)
        defer { release(key) }
        return try await body()
    }

    private func acquire(_ key: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free = state.withLock { s -> Bool in
                if s.busy[key] == nil { s.busy[key] = []; return true }
                s.busy[key]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    private func release(_ key: String) {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            guard var waiting = s.busy[key], !waiting.isEmpty else { s.busy[key] = nil; return nil }
            let first = waiting.removeFirst()
            s.busy[key] = waiting
            return first
        }
        next?.resume() // the key passes straight to the next request
    }

    /// The digest a key was first used with, while it has not expired.
    public func digest(for key: String, now: Date = Date()) -> String? {
        state.withLock { s in
            guard let entry = s.entries[key], now.timeIntervalSince(entry.created) < lifetime else { return nil }
            return entry.requestDigest
        }
    }

    /// Writes the key's digest ahead of the enqueue (once: a known key keeps its first digest).
    public func remember(key: String, requestDigest: String, now: Date = Date()) throws {
        try writing.withLock { _ in try rememberLocked(key: key, requestDigest: requestDigest, now: now) }
    }

    private func rememberLocked(key: String, requestDigest: String, now: Date) throws {
        let (line, compact) = state.withLock { s -> (Line?, [Line]?) in
            if let entry = s.entries[key], now.timeIntervalSince(entry.created) < lifetime { return (nil, nil) }
            if s.entries.updateValue(Entry(requestDigest: requestDigest, created: now, legacyRunID: nil), forKey: key)
                == nil
            {
                s.order.append(key)
            }
            // Oldest out first when over capacity; expired ones go at compaction.
            var dropped = 0
            while s.entries.count > capacity, dropped < s.order.count {
                let oldest = s.order[dropped]
                dropped += 1
                if oldest != key { s.entries[oldest] = nil }
            }
            if dropped > 0 { s.order.removeFirst(dropped) }
            s.linesInFile += 1
            guard s.linesInFile > 2 * s.entries.count + 1000 else {
                return (Line(k: key, d: requestDigest, t: now, r: nil), nil)
            }
            s.entries = s.entries.filter { now.timeIntervalSince($0.value.created) < lifetime }
            s.order.removeAll { s.entries[$0] == nil }
            s.linesInFile = s.order.count
            return (
                nil,
                s.order.map {
                    Line(
                        k: $0, d: s.entries[$0]!.requestDigest, t: s.entries[$0]!.created, r: s.entries[$0]!.legacyRunID
                    )
                }
            )
        }
        guard let file else { return }
        if let compact { try rewrite(file, compact) } else if let line { try append(file, line) }
    }

    /// How many keys are remembered now.
    public var count: Int { state.withLock { $0.entries.count } }

    private static func encode(_ line: Line) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        var data = try encoder.encode(line)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    private func append(_ file: URL, _ line: Line) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        if !FileManager.default.fileExists(atPath: file.path) {
            _ = FileManager.default.createFile(atPath: file.path, contents: nil)
        }
        let handle = try FileHandle(forWritingTo: file)
        // The write below succeeded or threw: a failing close has nothing more to tell.
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: try Self.encode(line))
    }

    /// Writes the live lines to a temporary file and renames it over the old one.
    private func rewrite(_ file: URL, _ lines: [Line]) throws {
        var data = Data()
        for line in lines { data.append(try Self.encode(line)) }
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: file, options: .atomic)
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// A fingerprint of a request body for `Idempotency-Key` checks: two 64-bit FNV-1a hashes with
/// different offsets. Not cryptographic; it only has to tell "the same request" from "another one".
enum RequestDigest {
    static func of(_ parts: [UInt8]...) -> String {
        var a: UInt64 = 0xcbf2_9ce4_8422_2325
        var b: UInt64 = 0x6c62_272e_07bb_0142
        for part in parts {
            for byte in part {
                a = (a ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
                b = (b ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
            }
            // A separator, so ("ab", "c") and ("a", "bc") differ.
            a = (a ^ 0xff) &* 0x0000_0100_0000_01b3
            b = (b ^ 0xfe) &* 0x0000_0100_0000_01b3
        }
        return String(a, radix: 16) + String(b, radix: 16)
    }
}
