import Foundation
import InvokeAI
import JSONValue
import Synchronization

/// Follows the gateway's runs so that what it says of each is what InvokeAI's queue records:
/// InvokeAI's events (only those of the gateway's destination, or of a batch it knows) move
/// them and become the gateway's own events on the hub; an ended run is confirmed against
/// InvokeAI's record (its items, their sessions, the output images' records) before it is
/// reported ended, exactly once. After an upstream reconnect, a queue clear or a gateway
/// restart, runs are read again from InvokeAI, so no end is missed or reported twice.
///
/// Memory is bounded: ended runs leave the table by count and age (`RunTrackerConfiguration`)
/// and are read from InvokeAI again when asked for (`lookup`).
///
/// Its background work (confirming ends, re-reading after a cleared queue, `?wait` timers) and
/// its cleaner's happen inside `run()`, which the server runs while it serves.
public final class RunTracker: GatewayService {
    /// Maps a finished run's queue items to its outputs (the workflow engine's job).
    public typealias OutputMapper = @Sendable (_ workflow: String, _ items: [InvokeAIQueueItem]) async -> JSONValue

    public let destination: String
    public let configuration: RunTrackerConfiguration
    /// Deletes the images runs leave behind (inputs the gateway uploaded, outputs on request).
    public let cleaner: ImageCleaner
    /// Outputs of an ended run are deleted this long after it ended; nil keeps them.
    public let outputTTL: TimeInterval?
    let upstream: RunUpstream
    let hub: EventHub
    let mapOutputs: OutputMapper

    struct Waiter {
        let continuation: CheckedContinuation<Void, Never>
        var timer: JobQueue.Ticket?
    }

    struct State {
        var table = RunTable()
        var runOfItem: [Int: String] = [:]
        /// Runs whose end is being confirmed (so it is reported once).
        var finishing: Set<String> = []
        var waiters: [String: [UUID: Waiter]] = [:]
        /// Sessions of this gateway's items watched through their events, by item id.
        var sessions: [Int: ObservedSession] = [:]
        /// Bumped on every connect and disconnect of InvokeAI's event stream.
        var streamEpoch = 0
    }

    let state: Mutex<State>
    /// Ends to confirm, read-backs to retry, `?wait` timers: done inside `run()`.
    let jobs = JobQueue()
    let outputsFromEvents = Atomic(0)
    let outputsReadBack = Atomic(0)
    let readBackFailures = Atomic(0)
    /// Told of each run's transitions (the server logs and counts them).
    let transitions = RunTransitionObservers()

    /// Sets what is told of each run's transitions: queued, running, ended.
    public func observeTransitions(_ body: @escaping @Sendable (RunTransition) -> Void) { transitions.set(body) }

    /// Reads of an ended run's record that failed (each is retried).
    public var readBackFailureCount: Int { readBackFailures.load(ordering: .relaxed) }

    /// How ended runs got their outputs: from the events watched, or read back from InvokeAI.
    public var outputSources: (events: Int, readBack: Int) {
        (outputsFromEvents.load(ordering: .relaxed), outputsReadBack.load(ordering: .relaxed))
    }

    public init(
        upstream: RunUpstream, hub: EventHub, destination: String,
        configuration: RunTrackerConfiguration = RunTrackerConfiguration(),
        cleaner: ImageCleaner, outputTTL: TimeInterval? = nil, mapOutputs: @escaping OutputMapper
    ) {
        self.upstream = upstream
        self.cleaner = cleaner
        self.outputTTL = outputTTL
        state = Mutex(State(table: RunTable(tracksOutputExpiry: outputTTL != nil)))
        self.hub = hub
        self.destination = destination
        self.configuration = configuration
        self.mapOutputs = mapOutputs
    }

    public convenience init(
        client: InvokeAIClient, hub: EventHub, destination: String,
        configuration: RunTrackerConfiguration = RunTrackerConfiguration(),
        outputTTL: TimeInterval? = nil, mapOutputs: @escaping OutputMapper
    ) {
        self.init(
            upstream: InvokeAIRunUpstream(client: client), hub: hub, destination: destination,
            configuration: configuration,
            cleaner: ImageCleaner(client: client), outputTTL: outputTTL, mapOutputs: mapOutputs)
    }

    /// The origin written on a run's batch: it names the workflow and the owning tenant, so a
    /// restarted gateway knows both (`RunOrigin`).
    public static func origin(for workflow: String, owner: String = "") -> String {
        RunOrigin(workflow: workflow, owner: owner).text
    }

    static func workflow(fromOrigin origin: String?) -> String? { RunOrigin(parsing: origin)?.workflow }

    /// Does the tracker's background work and its cleaner's until cancelled. Then every
    /// `?wait` still waiting is answered with its run as it is.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.cleaner.run() }
            await jobs.run()
        }
        let waiters = state.withLock { s in
            defer { s.waiters = [:] }
            return s.waiters.values.flatMap(\.values)
        }
        for waiter in waiters { waiter.continuation.resume() }
    }

    // MARK: reading

    /// The run, when it is in the table (see `lookup` for older ones).
    public func run(_ id: String) -> Run? { state.withLock { $0.table[id] }.map(withCleanup) }

    /// A page of runs, newest first, optionally filtered (`owner`: one tenant's), and how many
    /// match in all. Nothing is sorted or counted per request (see `RunTable`).
    public func runs(
        workflow: String? = nil, status: RunStatus? = nil, owner: String? = nil, offset: Int = 0, limit: Int = Int.max
    ) -> (page: [Run], total: Int) {
        let (page, total) = state.withLock { s in
            s.table.page(
                offset: offset, limit: limit,
                matching: RunTable.Filter(workflow: workflow, status: status, owner: owner))
        }
        return (page.map { withCleanup($0.run) }, total)
    }

    /// The same page as `runs` as the JSON body of `GET /v1/runs`:
    /// `{"limit", "offset", "runs", "total"}`. The lock is held only to find the page; each run's
    /// JSON but its cleanup is written once per change of the run and kept in the table (a
    /// running run's, whose duration grows, is written afresh), so a page is mostly copies.
    public func runsPageJSON(
        workflow: String? = nil, status: RunStatus? = nil, owner: String? = nil, offset: Int = 0, limit: Int
    ) -> [UInt8] {
        let (rows, total) = state.withLock { s in
            s.table.page(
                offset: offset, limit: limit,
                matching: RunTable.Filter(workflow: workflow, status: status, owner: owner))
        }
        var body: [UInt8] = []
        body.reserveCapacity(64 + rows.reduce(0) { $0 + ($1.json?.count ?? 1024) + 160 })
        body.append(contentsOf: #"{"limit":\#(limit),"offset":\#(offset),"runs":["#.utf8)
        var written: [(id: String, revision: Int, json: [UInt8])] = []
        let cleanups = cleaner.status(ofRuns: rows.map(\.run.id))
        for (index, row) in rows.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            let json = row.json ?? row.run.jsonButCleanup
            if row.json == nil, row.run.jsonIsTimeless { written.append((row.run.id, row.revision, json)) }
            Run.writeJSON(cleanup: (mode: row.run.cleanup, state: cleanups[index]), butCleanup: json, to: &body)
        }
        body.append(contentsOf: #"],"total":\#(total)}"#.utf8)
        if !written.isEmpty {
            state.withLock { s in
                for run in written { s.table.keepJSON(run.id, revision: run.revision, run.json) }
            }
        }
        return body
    }

    /// How many runs the table holds now.
    public var count: Int { state.withLock { $0.table.count } }

    /// Runs in the table by status (the table keeps a count per filter).
    public var countsByStatus: [RunStatus: Int] {
        state.withLock { s in
            Dictionary(
                uniqueKeysWithValues: RunStatus.allCases.map { ($0, s.table.count(matching: .init(status: $0))) })
        }
    }

    /// The run with what the cleaner did for it.
    func withCleanup(_ run: Run) -> Run {
        var run = run
        run.cleanupState = cleaner.status(of: run.id)
        return run
    }

    // MARK: registering

    /// A batch was just enqueued for `run`. When its events came first (a fast run, adopted from
    /// them, perhaps already ended), what they taught is kept and the submission's facts are added.
    public func register(_ run: Run) {
        enum Outcome { case queued(Run), known(Run) }
        let outcome: Outcome = state.withLock { s in
            for item in run.itemIDs { s.runOfItem[item] = run.id }
            guard var known = s.table[run.id] else {
                s.table.insert(run)
                return .queued(run)
            }
            for item in run.itemIDs where !known.itemIDs.contains(item) { known.itemIDs.append(item) }
            known.uploadedImages = run.uploadedImages
            known.cleanup = run.cleanup
            known.nodeSteps = run.nodeSteps
            known.models = run.models
            s.table[run.id] = known
            return .known(known)
        }
        switch outcome {
        case .queued(let run):
            transitions.tell(RunTransition(run, from: nil, to: .queued))
            hub.publish(
                "run.queued", run: run.id, workflow: run.workflow, owner: run.owner, data: .object(run.eventData))
        case .known(let known) where known.status.isTerminal:
            // It ended before its submission was answered: its inputs can go now.
            cleaner.remove(known.uploadedImages, run: known.id, reason: "input uploaded for the run")
        case .known:
            break
        }
        evictIfFull()
    }

    // MARK: helpers

    func update(_ id: String, _ change: (inout Run) -> Void) {
        state.withLock { s in
            guard let run = s.table[id], !run.status.isTerminal else { return }
            s.table.modify(id, change)
        }
    }

    func publishNode(_ type: String, run id: String, info: InvocationInfo, extra: JSONObject, preview: JSONValue? = nil)
    {
        guard let run = self.run(id) else { return }
        var data = extra
        data["run"] = .string(id)
        data["workflow"] = .string(run.workflow)
        data["node"] = .string(info.sourceNodeId)
        data["node_type"] = Self.string(info.invocationType)
        hub.publish(type, run: id, workflow: run.workflow, owner: run.owner, data: .object(data), preview: preview)
    }

    static func string(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// InvokeAI writes times as `2026-11-22 18:49:14.869` (UTC, no zone).
    static func date(_ text: String?) -> Date? {
        guard let text else { return nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        for format in [
            "yyyy-MM-dd HH:mm:ss.SSS", "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS", "yyyy-MM-dd'T'HH:mm:ss",
        ] {
            formatter.dateFormat = format
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }
}

/// How much of the run history the tracker keeps in memory, and how it retries reading
/// InvokeAI's record of an ended run.
public struct RunTrackerConfiguration: Sendable {
    /// Ended runs beyond this many leave the table, oldest first (runs not ended never do).
    public var maxRuns: Int
    /// Ended runs that ended longer ago than this leave the table.
    public var maxAge: TimeInterval
    /// Pauses between reads of an ended run's record that failed; the last one repeats.
    public var readBackRetryDelays: [Duration]

    public init(
        maxRuns: Int = 10_000, maxAge: TimeInterval = 7 * 24 * 3600,
        readBackRetryDelays: [Duration] = [.seconds(1), .seconds(2), .seconds(5), .seconds(15), .seconds(60)]
    ) {
        self.maxRuns = max(1, maxRuns)
        self.maxAge = maxAge
        self.readBackRetryDelays = readBackRetryDelays.isEmpty ? [.seconds(1)] : readBackRetryDelays
    }
}
