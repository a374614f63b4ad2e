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
public final class WorkflowCatalog: Sendable {
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
        /// The one schema read in flight: every caller waits for the same answer.
        var schemaLoad: Task<Result<InvocationSchemaTable, InvokeAIError>, Never>?
        var files: [String: FileEntry] = [:]
        /// Monotonic seconds of the last folder check; nil before the first.
        var filesCheckedAt: Double?
        var library: [String: LibraryEntry] = [:]
        var libraryReadAt: Double?
        /// Library reads are numbered and run one at a time; `libraryReadsDone` is the number of
        /// the last one finished, so a caller can wait for a read that started after it asked.
        var libraryReadsStarted = 0
        var libraryReadsDone = 0
        var libraryRead: Task<Void, Never>?
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

    private let state = Mutex(State())
    /// Held while the folder is scanned, so one caller scans and the others use what is known.
    private let scanning = Mutex(())

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

    // MARK: reading

    /// Every named workflow, sorted by name. Cheap on the request path: the folder is checked at
    /// most once per `fileCheckInterval`; the library is read on first use, then served while a
    /// background read refreshes it every `libraryTTL`.
    public func entries() async throws(InvokeAIError) -> [Entry] {
        guard let schemas = try? await schemas() else { return offlineEntries() }
        checkFiles(schemas, force: false)
        let (firstRead, stale) = state.withLock { s in
            (s.libraryReadAt == nil, s.libraryReadAt.map { MonotonicClock.seconds() - $0 >= libraryTTL } ?? false)
        }
        if firstRead {
            await readLibrary(startedAfter: 0, schemas) // any read will do, the first one in flight too
        } else if stale {
            startLibraryReadIfIdle(schemas)
        }
        return state.withLock { s in
            Self.rebuildNamed(&s); return s.named
        }
    }

    /// The workflow named `name`. A name not known yet makes the catalog look again at once (a
    /// file just written, a workflow just saved in the GUI): the folder, and a library read that
    /// starts after this call (reads are shared by everyone waiting, one at a time).
    public func entry(_ name: String) async throws(InvokeAIError) -> Entry? {
        guard let schemas = try? await schemas() else { return offlineEntries().first { $0.name == name } }
        let ticket = state.withLock { $0.libraryReadsStarted }
        _ = try await entries()
        if let known = cached(name) { return known }
        checkFiles(schemas, force: true)
        await readLibrary(startedAfter: ticket, schemas)
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
        if let staleLibrary { startLibraryReadIfIdle(staleLibrary) }
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
        let schemas = state.withLock { s -> InvocationSchemaTable in
            if let saved = s.fallbackSchemas { return saved }
            let saved = schemaCacheFile.flatMap { try? Data(contentsOf: URL(fileURLWithPath: $0)) }
                .flatMap { try? FastJSONParser.parse($0) }.map(InvocationSchemaTable.init(openAPI:))
            s.fallbackSchemas = saved ?? InvocationSchemaTable(templates: [:])
            return s.fallbackSchemas!
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
        }.sorted()
        var entries: [Entry] = []
        var taken = Set<String>()
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            let base = WorkflowSlug.make(from: URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
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

    /// InvokeAI reconnected (it may have restarted with other node packs, or another version):
    /// its schemas are read again, and every workflow is read again against them.
    public func upstreamChanged() {
        state.withLock { s in
            s.schemas = nil
            s.schemaLoad = nil
            s.schemaEpoch += 1
            s.files = [:]
            s.filesCheckedAt = nil
            s.library = [:]
            s.libraryProbe = nil
            s.libraryReadAt = nil
            s.generation += 1
        }
    }

    /// InvokeAI's invocation schemas, read once per connection to InvokeAI (again after a
    /// failure, and after `upstreamChanged`); concurrent first callers share one read. Each
    /// answer is saved (`schemaCacheFile`) for describing files while InvokeAI is down.
    public func schemas() async throws(InvokeAIError) -> InvocationSchemaTable {
        let (known, load, epoch) = state.withLock {
            s -> (InvocationSchemaTable?, Task<Result<InvocationSchemaTable, InvokeAIError>, Never>?, Int) in
            if let schemas = s.schemas { return (schemas, nil, s.schemaEpoch) }
            if let running = s.schemaLoad { return (nil, running, s.schemaEpoch) }
            let upstream = self.upstream, cacheFile = self.schemaCacheFile
            let task = Task { () -> Result<InvocationSchemaTable, InvokeAIError> in
                do throws(InvokeAIError) {
                    let document = try await upstream.openAPI()
                    if let cacheFile {
                        try? FileManager.default.createDirectory(
                            atPath: (cacheFile as NSString).deletingLastPathComponent, withIntermediateDirectories: true
                        )
                        try? Data(document.compactJSON.utf8).write(
                            to: URL(fileURLWithPath: cacheFile), options: .atomic)
                    }
                    return .success(InvocationSchemaTable(openAPI: document))
                } catch {
                    return .failure(error)
                }
            }
            s.schemaLoad = task
            return (nil, task, s.schemaEpoch)
        }
        if let known { return known }
        let result = await load!.value
        state.withLock { s in
            guard s.schemaEpoch == epoch else { return }
            if case .success(let table) = result, s.schemas == nil { s.schemas = table; s.fallbackSchemas = table }
            s.schemaLoad = nil
        }
        return try result.get()
    }

    // MARK: files

    /// Lists the folder and re-reads files whose stamp changed (or is too recent to trust). At
    /// most once per `fileCheckInterval` unless forced; the first check is waited for by
    /// everyone, later ones are skipped by callers that find another caller scanning.
    private func checkFiles(_ schemas: InvocationSchemaTable, force: Bool) {
        guard let directory else { return }
        let checkedAt = state.withLock { $0.filesCheckedAt }
        let due = force || checkedAt.map { MonotonicClock.seconds() - $0 >= fileCheckInterval } ?? true
        guard due else { return }
        let scan = {
            let recheck = self.state.withLock { $0.filesCheckedAt }
            guard force || recheck == checkedAt else { return } // someone scanned meanwhile
            self.scanFiles(directory, schemas)
        }
        if checkedAt == nil || force {
            scanning.withLock { _ in scan() }
        } else {
            _ = scanning.withLockIfAvailable { _ in scan() }
        }
    }

    private func scanFiles(_ directory: String, _ schemas: InvocationSchemaTable) {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter {
            $0.hasSuffix(".json")
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

    /// Waits for a library read that started after read number `ticket`, starting one if none is
    /// running.
    private func readLibrary(startedAfter ticket: Int, _ schemas: InvocationSchemaTable) async {
        while true {
            let waitFor: Task<Void, Never>? = state.withLock { s in
                if s.libraryReadsDone > ticket { return nil }
                return s.libraryRead ?? startLibraryRead(&s, schemas)
            }
            guard let waitFor else { return }
            await waitFor.value
        }
    }

    private func startLibraryReadIfIdle(_ schemas: InvocationSchemaTable) {
        state.withLock { s in
            if s.libraryRead == nil { _ = startLibraryRead(&s, schemas) }
        }
    }

    private func startLibraryRead(_ s: inout State, _ schemas: InvocationSchemaTable) -> Task<Void, Never> {
        s.libraryReadsStarted += 1
        let number = s.libraryReadsStarted
        let known = s.library
        let knownProbe = s.libraryProbe
        let task = Task {
            let probe = await self.probeLibrary()
            let fresh = probe != nil && probe == knownProbe ? known : await self.fetchLibrary(known: known, schemas)
            self.state.withLock { s in
                if let fresh {
                    if fresh.mapValues(\.updatedAt) != s.library.mapValues(\.updatedAt) { s.generation += 1 }
                    s.library = fresh
                    s.libraryProbe = probe
                }
                // Also after a failure: the next attempt waits its turn like any refresh.
                s.libraryReadAt = MonotonicClock.seconds()
                s.libraryReadsDone = number
                s.libraryRead = nil
            }
        }
        s.libraryRead = task
        return task
    }

    /// The library's total and most recently updated workflow, nil when unreadable (then the
    /// full listing decides).
    private func probeLibrary() async -> LibraryProbe? {
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
            guard let record = try? await upstream.libraryWorkflow(item.id), let json = record["workflow"],
                let workflow = try? Workflow.parse(json, schemas: schemas)
            else { continue }
            fresh[item.id] = LibraryEntry(
                updatedAt: item.updated, createdAt: item.created, title: item.title, workflow: workflow)
        }
        return fresh
    }

    // MARK: uploads

    /// Stores a definition as `<name>.json` in the workflows folder (replacing it), after
    /// checking it parses. Returns the new entry.
    public func store(name: String, definition: JSONValue) async throws -> Entry {
        guard let directory else { throw CatalogError.noDirectory }
        guard WorkflowSlug.isValid(name) else { throw CatalogError.badName(name) }
        let workflow = try Workflow.parse(definition, schemas: try await schemas())
        let path = (directory as NSString).appendingPathComponent("\(name).json")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(definition).write(to: URL(fileURLWithPath: path), options: .atomic)
        // Known at once, without waiting for the next folder check.
        if let stamp = FileStamp(path: path) {
            state.withLock { s in
                s.files[path] = FileEntry(stamp: stamp, workflow: workflow); s.generation += 1
            }
        }
        return Entry(name: name, source: .file, workflow: workflow, location: path)
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
        case noDirectory, badName(String), notAFile(String)
        public var description: String {
            switch self {
            case .noDirectory: "the gateway has no workflows folder (--workflows) to store uploads in"
            case .badName(let name):
                "'\(name)' is not a valid workflow name (lowercase letters, digits and single dashes)"
            case .notAFile(let name): "workflow \(name) comes from InvokeAI's library; delete it there"
            }
        }
    }
}
