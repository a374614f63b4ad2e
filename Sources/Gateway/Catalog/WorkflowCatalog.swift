import Foundation
import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue
import Logging
import Synchronization
import Workflows

/// The named workflows: JSON files in the workflows folder (re-read when they change; uploads
/// through the API are stored there too) and InvokeAI's own workflow library (so a workflow saved
/// in the GUI is callable at once). Files win name collisions; library names are slugs of their
/// titles, made distinct in a stable order (creation time, then id).
///
/// Reads happen outside the catalog's lock: a caller that needs one does it in its own task, or
/// waits for the one running (they are shared); only background refreshes of the library are
/// jobs on its queue, done inside `run()`. What is known is served without I/O or waiting.
public final class WorkflowCatalog: GatewayService {
    public enum Source: String, Sendable { case file, library }

    public struct Entry: Sendable {
        public let name: String
        public let source: Source
        public let workflow: Workflow
        /// The file behind a `file` entry; the library id behind a `library` entry.
        public let location: String
        /// Whether the workflow was read against InvokeAI's node schemas as InvokeAI serves them
        /// now (false: InvokeAI is unreachable and a saved copy of its schemas, or none, was used,
        /// so whether it can run is unknown).
        public var schemasLive: Bool = true

        public var summaryJSON: JSONValue {
            var fields = workflow.summaryJSON.objectValue ?? [:]
            fields["name"] = .string(name)
            fields["source"] = .string(source.rawValue)
            fields["links"] = ["self": .string("/v1/workflows/\(name)"), "runs": .string("/v1/workflows/\(name)/runs")]
            return .object(fields)
        }

        public var detailJSON: JSONValue {
            var fields = workflow.detailJSON.objectValue ?? [:]
            fields["name"] = .string(name)
            fields["source"] = .string(source.rawValue)
            return .object(fields)
        }
    }

    public let directory: String?
    private let upstream: WorkflowCatalogUpstream
    private let logger: Logger
    /// How long a read of the library is served before a background read replaces it.
    private let libraryTTL: Double
    /// How often, at most, the folder is listed and its files' stamps compared.
    private let fileCheckInterval: Double

    private struct FileEntry { var stamp: FileStamp; var workflow: Workflow }
    private struct LibraryProbe: Equatable { var total: Int; var newestID: String; var newestUpdatedAt: String }
    private struct LibraryEntry {
        var updatedAt: String; var createdAt: String; var title: String; var workflow: Workflow
    }
    private struct State {
        var schemas: InvocationSchemaTable?
        /// The schemas saved from the last InvokeAI answer (or none), used while InvokeAI is down.
        var fallbackSchemas: InvocationSchemaTable?
        /// Bumped by `upstreamChanged`: a schema read started before it is not kept.
        var schemaEpoch = 0
        /// A schema read is running (in the task of the caller that started it); the others
        /// wait for its answer, by the epoch they asked in.
        var schemaLoading = false
        var schemaWaiters: [(epoch: Int, continuation: CheckedContinuation<SchemaStep, Never>)] = []
        var files: [String: FileEntry] = [:]
        /// Monotonic seconds of the last folder check; nil before the first.
        var filesCheckedAt: Double?
        var scans = ReadRounds()
        var library: [String: LibraryEntry] = [:]
        var libraryReadAt: Double?
        var libraryReads = ReadRounds()
        /// How many library reads had started when `upstreamChanged` forgot the library: the
        /// next first read must be a later one.
        var libraryForgottenAt = 0
        /// A background refresh is queued and has not started.
        var libraryRefreshQueued = false
        /// What the cheap probe said at the last full read: unchanged means nothing to re-list.
        var libraryProbe: LibraryProbe?
        /// Bumped whenever files or library change; the named entries are rebuilt once per change.
        var generation = 0
        var namedGeneration = -1
        var named: [Entry] = []
        var byName: [String: Entry] = [:]
        /// Every version of every workflow seen, by fingerprint: what `If-Match` drift reports compare with.
        var versions: [String: Workflow] = [:]
    }

    private enum SchemaStep: Sendable {
        case known(InvocationSchemaTable)
        case load(epoch: Int)
        case answered(Result<InvocationSchemaTable, InvokeAIError>)
    }

    private let state = Mutex(State())
    /// Background refreshes of the library.
    let jobs = JobQueue()

    /// Where InvokeAI's last schema answer is saved, so workflow files can still be described
    /// while InvokeAI is down (nil: not saved).
    private let schemaCacheFile: String?

    public init(
        directory: String?, upstream: WorkflowCatalogUpstream, logger: Logger,
        libraryTTL: Double = 5, fileCheckInterval: Double = 1, schemaCacheFile: String? = nil
    ) {
        self.directory = directory
        self.schemaCacheFile = schemaCacheFile
        self.upstream = upstream
        self.logger = logger
        self.libraryTTL = libraryTTL
        self.fileCheckInterval = fileCheckInterval
    }

    public convenience init(directory: String?, client: InvokeAIClient, logger: Logger, schemaCacheFile: String? = nil)
    {
        self.init(
            directory: directory, upstream: WorkflowCatalogUpstream(client: client), logger: logger,
            schemaCacheFile: schemaCacheFile)
    }

    /// Does the background refreshes of the library until cancelled.
    public func run() async { await jobs.run() }

    // MARK: reading

    /// Every named workflow, sorted by name. Cheap on the request path: the folder is checked at
    /// most once per `fileCheckInterval`; the library is read on first use, then served while a
    /// background read refreshes it every `libraryTTL`.
    public func entries() async throws(InvokeAIError) -> [Entry] {
        // Schemas unreadable (InvokeAI down): the files, against the saved schemas, marked unchecked.
        guard let schemas = try? await schemas() else { return offlineEntries() }
        await checkFiles(schemas, force: false)
        let (firstRead, stale) = state.withLock { s in
            (s.libraryReadAt == nil, s.libraryReadAt.map { MonotonicClock.seconds() - $0 >= libraryTTL } ?? false)
        }
        if firstRead {
            // Any read started since the library was last forgotten will do (the first one in
            // flight too); one that ended before that would leave it unread.
            await readLibrary(after: state.withLock { $0.libraryForgottenAt }, schemas)
        } else if stale {
            refreshLibraryInBackground(schemas)
        }
        return state.withLock { s in
            Self.rebuildNamed(&s); return s.named
        }
    }

    /// The workflow named `name`. A name not known yet makes the catalog look again at once (a
    /// file just written, a workflow just saved in the GUI): the folder, and a library read that
    /// starts after this call (reads are shared by everyone waiting, one at a time).
    public func entry(_ name: String) async throws(InvokeAIError) -> Entry? {
        // Schemas unreadable (InvokeAI down): the files, against the saved schemas, marked unchecked.
        guard let schemas = try? await schemas() else { return offlineEntries().first { $0.name == name } }
        let ticket = state.withLock { $0.libraryReads.started }
        _ = try await entries()
        if let known = cached(name) { return known }
        await checkFiles(schemas, force: true)
        await readLibrary(after: ticket, schemas)
        return state.withLock { s in
            Self.rebuildNamed(&s); return s.byName[name]
        }
    }

    /// The named workflows and the catalog's generation (bumped on every change), when serving
    /// them needs no I/O now: the schemas are read, the folder was checked within
    /// `fileCheckInterval` and the library has been read (a stale one starts its background
    /// refresh, as `entries()` does). Nil when a request must take the asynchronous path.
    public func currentWithoutIO() -> (entries: [Entry], byName: [String: Entry], generation: Int)? {
        let now = MonotonicClock.seconds()
        let (snapshot, staleLibrary) = state.withLock {
            s -> ((entries: [Entry], byName: [String: Entry], generation: Int)?, InvocationSchemaTable?) in
            guard let schemas = s.schemas, let readAt = s.libraryReadAt,
                directory == nil || s.filesCheckedAt.map({ now - $0 < fileCheckInterval }) == true
            else {
                return (nil, nil)
            }
            Self.rebuildNamed(&s)
            return ((s.named, s.byName, s.generation), now - readAt >= libraryTTL ? schemas : nil)
        }
        if let staleLibrary { refreshLibraryInBackground(staleLibrary) }
        return snapshot
    }

    /// The entry as last listed (no refresh, no I/O).
    public func cached(_ name: String) -> Entry? {
        state.withLock { s in
            Self.rebuildNamed(&s); return s.byName[name]
        }
    }

    /// A version of a workflow seen earlier, by its fingerprint.
    public func version(_ fingerprint: String) -> Workflow? { state.withLock { $0.versions[fingerprint] } }

    private static func rebuildNamed(_ s: inout State) {
        guard s.namedGeneration != s.generation else { return }
        var entries: [Entry] = []
        var taken = Set<String>()
        for (path, file) in s.files.sorted(by: { $0.key < $1.key }) {
            let base = WorkflowSlug.make(from: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
            guard !base.isEmpty, !taken.contains(base) else { continue }
            taken.insert(base)
            entries.append(Entry(name: base, source: .file, workflow: file.workflow, location: path))
        }
        let library = s.library.sorted { ($0.value.createdAt, $0.key) < ($1.value.createdAt, $1.key) }
        for (name, pair) in WorkflowSlug.assign(library, title: { $0.value.title }, taken: taken) {
            entries.append(Entry(name: name, source: .library, workflow: pair.value.workflow, location: pair.key))
        }
        s.named = entries.sorted { $0.name < $1.name }
        s.byName = Dictionary(s.named.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for entry in s.named where s.versions.count < 1000 { s.versions[entry.workflow.fingerprint] = entry.workflow }
        s.namedGeneration = s.generation
    }

    /// With InvokeAI unreachable: the workflow files, read against the saved schemas (or none),
    /// marked as not checked against InvokeAI. The library is InvokeAI's, so it is not listed.
    private func offlineEntries() -> [Entry] {
        guard let directory else { return [] }
        let schemas = state.withLock { $0.fallbackSchemas } ?? savedSchemas()
        // A folder that cannot be listed lists nothing (the scan logs why once InvokeAI is back).
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }.sorted()
        var entries: [Entry] = []
        var taken = Set<String>()
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            let base = WorkflowSlug.make(from: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
            // A file that cannot be read or parsed is left out, as the scan leaves it out (and logs why).
            guard !base.isEmpty, !taken.contains(base), let data = try? Data(contentsOf: URL(fileURLWithPath: path)),
                let document = try? JSONDocument(parsing: data),
                let workflow = try? Workflow.parse(document, schemas: schemas)
            else { continue }
            taken.insert(base)
            var entry = Entry(name: base, source: .file, workflow: workflow, location: path)
            entry.schemasLive = false
            entries.append(entry)
        }
        return entries
    }

    /// The schemas saved from InvokeAI's last answer (none: an empty table), read from the file
    /// once, outside the lock (two first callers may both read it; the first answer is kept).
    private func savedSchemas() -> InvocationSchemaTable {
        var saved: InvocationSchemaTable?
        if let schemaCacheFile, FileManager.default.fileExists(atPath: schemaCacheFile) {
            do {
                saved = InvocationSchemaTable(
                    openAPI: try FastJSONParser.parse(try Data(contentsOf: URL(fileURLWithPath: schemaCacheFile))))
            } catch {
                logger.warning("the saved schemas in \(schemaCacheFile) could not be read: \(error)")
            }
        }
        let table = saved ?? InvocationSchemaTable(templates: [:])
        return state.withLock { s in
            if s.fallbackSchemas == nil { s.fallbackSchemas = table }
            return s.fallbackSchemas ?? table
        }
    }

    /// InvokeAI reconnected (it may have restarted with other node packs, or another version):
    /// its schemas are read again, and every workflow is read again against them.
    public func upstreamChanged() {
        state.withLock { s in
            s.schemas = nil
            s.schemaLoading = false // the next caller reads them again; a read running is not kept
            s.schemaEpoch += 1
            s.files = [:]
            s.filesCheckedAt = nil
            s.library = [:]
            s.libraryProbe = nil
            s.libraryReadAt = nil
            s.libraryForgottenAt = s.libraryReads.started
            s.generation += 1
        }
    }

    /// InvokeAI's invocation schemas, read once per connection to InvokeAI (again after a
    /// failure, and after `upstreamChanged`); concurrent first callers share one read, done in
    /// the first one's task. Each answer is saved (`schemaCacheFile`) for describing files while
    /// InvokeAI is down.
    public func schemas() async throws(InvokeAIError) -> InvocationSchemaTable {
        if let known = state.withLock({ $0.schemas }) { return known }
        let step = await withCheckedContinuation { (continuation: CheckedContinuation<SchemaStep, Never>) in
            let now = state.withLock { s -> SchemaStep? in
                if let schemas = s.schemas { return .known(schemas) }
                if s.schemaLoading {
                    s.schemaWaiters.append((s.schemaEpoch, continuation))
                    return nil
                }
                s.schemaLoading = true
                return .load(epoch: s.schemaEpoch)
            }
            if let now { continuation.resume(returning: now) }
        }
        switch step {
        case .known(let schemas):
            return schemas
        case .answered(let result):
            return try result.get()
        case .load(let epoch):
            let result = await loadSchemas()
            let waiters = state.withLock { s in
                if s.schemaEpoch == epoch {
                    if case .success(let table) = result, s.schemas == nil {
                        (s.schemas, s.fallbackSchemas) = (table, table)
                    }
                    s.schemaLoading = false
                }
                let (answered, rest) = (
                    s.schemaWaiters.filter { $0.epoch == epoch }, s.schemaWaiters.filter { $0.epoch != epoch }
                )
                s.schemaWaiters = rest
                return answered
            }
            for waiter in waiters { waiter.continuation.resume(returning: .answered(result)) }
            return try result.get()
        }
    }

    private func loadSchemas() async -> Result<InvocationSchemaTable, InvokeAIError> {
        do throws(InvokeAIError) {
            let document = try await upstream.openAPI()
            saveSchemas(document)
            return .success(InvocationSchemaTable(openAPI: document))
        } catch {
            return .failure(error)
        }
    }

    /// Saves InvokeAI's answer, for describing files while it is down; a failure only means the
    /// last saved answer (or none) is used then.
    private func saveSchemas(_ document: JSONValue) {
        guard let cacheFile = schemaCacheFile else { return }
        do {
            try FileManager.default.createDirectory(
                atPath: (cacheFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data(document.compactJSON.utf8).write(to: URL(fileURLWithPath: cacheFile), options: .atomic)
        } catch {
            logger.warning("InvokeAI's schemas could not be saved to \(cacheFile): \(error)")
        }
    }

    // MARK: shared reads

    /// Returns once a read of `rounds` numbered above `ticket` has ended, doing one in this task
    /// (`read`) when none is running, else waiting for the one that is.
    private func awaitRead(
        _ rounds: WritableKeyPath<State, ReadRounds>, after ticket: Int, _ read: () async -> Void
    ) async {
        while true {
            let step = await withCheckedContinuation { (continuation: CheckedContinuation<ReadRounds.Step, Never>) in
                if let now = state.withLock({ $0[keyPath: rounds].next(after: ticket, continuation) }) {
                    continuation.resume(returning: now)
                }
            }
            switch step {
            case .done: return
            case .again: continue
            case .read(let number):
                await read()
                endRead(rounds, number)
            }
        }
    }

    private func endRead(_ rounds: WritableKeyPath<State, ReadRounds>, _ number: Int) {
        for waiter in state.withLock({ $0[keyPath: rounds].end(number) }) { waiter.resume(returning: .again) }
    }

    // MARK: files

    /// What `reloadFolder` found: the workflow files in use, and whether they were read against
    /// InvokeAI's live schemas (else the saved ones: InvokeAI cannot be asked now).
    public struct FolderReload: Sendable {
        public let workflows: Int
        public let checkedAgainstInvokeAI: Bool
    }

    /// Lists the folder now (SIGHUP), whatever the last check's time: new and changed files are
    /// read, removed ones dropped, as the next request would.
    public func reloadFolder() async -> FolderReload {
        guard let schemas = try? await schemas() else {
            return FolderReload(workflows: offlineEntries().count, checkedAgainstInvokeAI: false)
        }
        await checkFiles(schemas, force: true)
        return FolderReload(workflows: state.withLock { $0.files.count }, checkedAgainstInvokeAI: true)
    }

    /// Lists the folder and re-reads files whose stamp changed (or is too recent to trust), at
    /// most once per `fileCheckInterval` unless forced. The first check is waited for by
    /// everyone, a forced one waits for a scan started after it was asked; a later check is
    /// skipped by a caller that finds another caller scanning. Scans run one at a time in the
    /// caller's task, with no lock held while files are read.
    private func checkFiles(_ schemas: InvocationSchemaTable, force: Bool) async {
        guard let directory else { return }
        let (checkedAt, started, finished) = state.withLock { ($0.filesCheckedAt, $0.scans.started, $0.scans.finished) }
        let due = force || checkedAt.map { MonotonicClock.seconds() - $0 >= fileCheckInterval } ?? true
        guard due else { return }
        if force || checkedAt == nil {
            await awaitRead(\.scans, after: force ? started : finished) { self.scanFiles(directory, schemas) }
        } else if let number = state.withLock({ $0.scans.begin() }) {
            // Someone may have scanned since this caller looked: then there is nothing to do.
            if state.withLock({ $0.filesCheckedAt }) == checkedAt { scanFiles(directory, schemas) }
            endRead(\.scans, number)
        }
    }

    private func scanFiles(_ directory: String, _ schemas: InvocationSchemaTable) {
        var names: [String] = []
        // No folder yet is no workflow files (the first upload makes it).
        if FileManager.default.fileExists(atPath: directory) {
            do {
                names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".json") }
            } catch {
                logger.warning("workflows folder \(directory) could not be listed: \(error)")
            }
        }
        let known = state.withLock { $0.files }
        let wallNow = FileStamp.wallClockNanoseconds()
        var files: [String: FileEntry] = [:]
        var changed = false
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let stamp = FileStamp(path: path) else { continue }
            if let entry = known[path], entry.stamp == stamp, !stamp.isRecent(nowWallNanoseconds: wallNow) {
                files[path] = entry
                continue
            }
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                let workflow = try Workflow.parse(try JSONDocument(parsing: data), schemas: schemas)
                changed = true
                files[path] = FileEntry(stamp: stamp, workflow: workflow)
            } catch {
                if known[path] != nil { changed = true }
                if known[path]?.stamp != stamp { logger.warning("workflow file \(path) skipped: \(error)") }
            }
        }
        if Set(files.keys) != Set(known.keys) { changed = true }
        state.withLock { s in
            s.files = files
            s.filesCheckedAt = MonotonicClock.seconds()
            if changed { s.generation += 1 }
        }
    }

    // MARK: library

    /// Returns once a library read numbered above `ticket` has ended (reads are shared, one at a
    /// time; this caller does one when none is running).
    private func readLibrary(after ticket: Int, _ schemas: InvocationSchemaTable) async {
        await awaitRead(\.libraryReads, after: ticket) { await self.readLibraryOnce(schemas) }
    }

    /// Queues a refresh of the library on the catalog's queue, unless one is queued or running.
    private func refreshLibraryInBackground(_ schemas: InvocationSchemaTable) {
        let queue = state.withLock { s -> Bool in
            guard !s.libraryReads.running, !s.libraryRefreshQueued else { return false }
            s.libraryRefreshQueued = true
            return true
        }
        guard queue else { return }
        jobs.submit {
            let number = self.state.withLock { s -> Int? in
                s.libraryRefreshQueued = false
                return s.libraryReads.begin()
            }
            guard let number else { return } // a caller's read started meanwhile
            await self.readLibraryOnce(schemas)
            self.endRead(\.libraryReads, number)
        }
    }

    /// One read of the library: the probe, and a listing when it says something changed.
    private func readLibraryOnce(_ schemas: InvocationSchemaTable) async {
        let (known, knownProbe) = state.withLock { ($0.library, $0.libraryProbe) }
        let probe = await probeLibrary()
        let fresh = probe != nil && probe == knownProbe ? known : await fetchLibrary(known: known, schemas)
        state.withLock { s in
            if let fresh {
                if fresh.mapValues(\.updatedAt) != s.library.mapValues(\.updatedAt) { s.generation += 1 }
                s.library = fresh
                s.libraryProbe = probe
            }
            // Also after a failure: the next attempt waits its turn like any refresh.
            s.libraryReadAt = MonotonicClock.seconds()
        }
    }

    /// The library's total and most recently updated workflow, nil when unreadable (then the
    /// full listing decides).
    private func probeLibrary() async -> LibraryProbe? {
        // Unreadable: nil, and the full listing decides (and reports its own failure).
        guard let answer = try? await upstream.libraryNewest(), let total = answer["total"]?.intValue else {
            return nil
        }
        let newest = answer["items"]?[0]
        return LibraryProbe(
            total: total, newestID: newest?["workflow_id"]?.stringValue ?? "",
            newestUpdatedAt: newest?["updated_at"]?.stringValue ?? "")
    }

    /// The library as InvokeAI lists it now, re-reading only workflows whose `updated_at` moved;
    /// nil when it cannot be read (the files still answer).
    private func fetchLibrary(known: [String: LibraryEntry], _ schemas: InvocationSchemaTable) async -> [String:
        LibraryEntry]?
    {
        var listed: [(id: String, updated: String, created: String, title: String)] = []
        do {
            var page = 0
            while page < 50 {
                let answer = try await upstream.libraryPage(page)
                for item in answer["items"]?.arrayValue ?? [] {
                    guard let id = item["workflow_id"]?.stringValue else { continue }
                    listed.append(
                        (
                            id, item["updated_at"]?.stringValue ?? "", item["created_at"]?.stringValue ?? "",
                            item["name"]?.stringValue ?? id
                        ))
                }
                page += 1
                if page >= (answer["pages"]?.intValue ?? 1) { break }
            }
        } catch {
            logger.warning("InvokeAI's workflow library could not be read: \(error)")
            return nil
        }
        var fresh: [String: LibraryEntry] = [:]
        for item in listed {
            if let entry = known[item.id], entry.updatedAt == item.updated {
                fresh[item.id] = entry
                continue
            }
            do {
                guard let json = try await upstream.libraryWorkflow(item.id)["workflow"] else { continue }
                let workflow = try Workflow.parse(json, schemas: schemas)
                fresh[item.id] = LibraryEntry(
                    updatedAt: item.updated, createdAt: item.created, title: item.title, workflow: workflow)
            } catch {
                // Left out of the catalog; read again at the next listing.
                logger.warning("InvokeAI's library workflow \(item.id) skipped: \(error)")
            }
        }
        return fresh
    }

    // MARK: uploads

    /// Stores a definition as `<name>.json` in the workflows folder (replacing it), after
    /// checking it parses, that the name is not a library workflow's, and that the folder stays
    /// within `limits`. Returns the new entry.
    public func store(name: String, definition: JSONValue, limits: WorkflowUploadLimits = WorkflowUploadLimits())
        async throws -> Entry
    {
        guard let directory else { throw CatalogError.noDirectory }
        guard WorkflowSlug.isValid(name) else { throw CatalogError.badName(name) }
        let workflow = try Workflow.parse(definition, schemas: try await schemas())
        // A file would win the name, and the GUI's workflow would silently move to `name-2`.
        if let existing = try await entry(name), existing.source == .library {
            throw CatalogError.libraryName(name, id: existing.location)
        }
        let path = (directory as NSString).appendingPathComponent("\(name).json")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let bytes = try encoder.encode(definition)
        try Self.checkQuota(directory: directory, replacing: path, adding: bytes.count, limits: limits)
        try bytes.write(to: URL(fileURLWithPath: path), options: .atomic)
        // Known at once, without waiting for the next folder check.
        if let stamp = FileStamp(path: path) {
            state.withLock { s in
                s.files[path] = FileEntry(stamp: stamp, workflow: workflow); s.generation += 1
            }
        }
        return Entry(name: name, source: .file, workflow: workflow, location: path)
    }

    /// Throws `quotaExceeded` when writing `adding` bytes at `path` would take the folder's
    /// workflow files past their count or total size (the file it replaces does not count).
    static func checkQuota(directory: String, replacing path: String, adding: Int, limits: WorkflowUploadLimits)
        throws
    {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }
        var count = 1
        var total = adding
        for name in names {
            let other = (directory as NSString).appendingPathComponent(name)
            guard other != path else { continue }
            count += 1
            total += ((try? FileManager.default.attributesOfItem(atPath: other))?[.size] as? Int) ?? 0
        }
        if count > limits.maxFiles {
            throw CatalogError.quotaExceeded("the workflows folder holds its limit of \(limits.maxFiles) files")
        }
        if total > limits.maxTotalBytes {
            throw CatalogError.quotaExceeded(
                "storing \(adding) bytes would take the workflows folder to \(total) bytes, past its limit of \(limits.maxTotalBytes)"
            )
        }
    }

    /// Removes an uploaded (file) workflow.
    public func remove(_ entry: Entry) throws {
        guard entry.source == .file else { throw CatalogError.notAFile(entry.name) }
        try FileManager.default.removeItem(atPath: entry.location)
        state.withLock { s in
            s.files[entry.location] = nil; s.generation += 1
        }
    }

    public enum CatalogError: Error, CustomStringConvertible {
        case noDirectory, badName(String), notAFile(String), libraryName(String, id: String), quotaExceeded(String)
        public var description: String {
            switch self {
            case .noDirectory: "the gateway has no workflows folder (--workflows) to store uploads in"
            case .badName(let name):
                "'\(name)' is not a valid workflow name (lowercase letters, digits and single dashes)"
            case .notAFile(let name): "workflow \(name) comes from InvokeAI's library; delete it there"
            case .libraryName(let name, let id):
                "'\(name)' is the name of InvokeAI's library workflow \(id); upload under another name (or rename it there)"
            case .quotaExceeded(let reason): "\(reason); delete a workflow first"
            }
        }
    }
}
