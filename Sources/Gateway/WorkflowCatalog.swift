import Foundation
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
    private let client: InvokeAIClient
    private let logger: Logger
    /// How long a read of the library is trusted before it is read again.
    private let libraryTTL: TimeInterval

    private struct FileEntry { var modified: Date; var size: Int; var workflow: Workflow }
    private struct LibraryEntry { var updatedAt: String; var createdAt: String; var title: String; var workflow: Workflow }
    private struct State {
        /// The entries as last listed, for synchronous lookups (output mapping).
        var listed: [String: Entry] = [:]
        /// Every version of every workflow seen, by fingerprint: what `If-Match` drift reports compare with.
        var versions: [String: Workflow] = [:]
        var schemas: InvocationSchemaTable?
        var files: [String: FileEntry] = [:]
        var library: [String: LibraryEntry] = [:]
        var libraryReadAt: Date?
    }

    private let state = Mutex(State())

    public init(directory: String?, client: InvokeAIClient, logger: Logger, libraryTTL: TimeInterval = 5) {
        self.directory = directory
        self.client = client
        self.logger = logger
        self.libraryTTL = libraryTTL
    }

    // MARK: reading

    /// Every named workflow, files first, sorted by name.
    public func entries() async throws(InvokeAIError) -> [Entry] {
        let schemas = try await schemas()
        refreshFiles(schemas)
        await refreshLibrary(schemas)
        return state.withLock { s in
            let entries = Self.named(s)
            s.listed = Dictionary(entries.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            for entry in entries where s.versions.count < 1000 { s.versions[entry.workflow.fingerprint] = entry.workflow }
            return entries
        }
    }

    /// The entry as last listed (no refresh, no I/O).
    public func cached(_ name: String) -> Entry? { state.withLock { $0.listed[name] } }

    /// A version of a workflow seen earlier, by its fingerprint.
    public func version(_ fingerprint: String) -> Workflow? { state.withLock { $0.versions[fingerprint] } }

    public func entry(_ name: String) async throws(InvokeAIError) -> Entry? {
        try await entries().first { $0.name == name }
    }

    private static func named(_ s: State) -> [Entry] {
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
        return entries.sorted { $0.name < $1.name }
    }

    /// InvokeAI's invocation schemas, read once (again after a failure).
    public func schemas() async throws(InvokeAIError) -> InvocationSchemaTable {
        if let schemas = state.withLock({ $0.schemas }) { return schemas }
        let table = InvocationSchemaTable(openAPI: try await client.openAPI())
        state.withLock { $0.schemas = table }
        return table
    }

    /// Forgets the schemas (InvokeAI restarted, maybe with other nodes): the next read fetches them.
    public func invalidateSchemas() {
        state.withLock { $0.schemas = nil; $0.files = [:]; $0.library = [:]; $0.libraryReadAt = nil }
    }

    private func refreshFiles(_ schemas: InvocationSchemaTable) {
        guard let directory else { return }
        let manager = FileManager.default
        let names = ((try? manager.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }
        var seen = Set<String>()
        for name in names {
            let path = (directory as NSString).appendingPathComponent(name)
            seen.insert(path)
            guard let attributes = try? manager.attributesOfItem(atPath: path),
                  let modified = attributes[.modificationDate] as? Date else { continue }
            let size = (attributes[.size] as? Int) ?? 0
            if let known = state.withLock({ $0.files[path] }), known.modified == modified, known.size == size { continue }
            do {
                let data = try Data(contentsOf: URL(fileURLWithPath: path))
                let json = try FastJSONParser.parse(data)
                let workflow = try Workflow.parse(json, schemas: schemas)
                state.withLock { $0.files[path] = FileEntry(modified: modified, size: size, workflow: workflow) }
            } catch {
                logger.warning("workflow file \(path) skipped: \(error)")
                state.withLock { _ = $0.files.removeValue(forKey: path) }
            }
        }
        state.withLock { s in for path in s.files.keys where !seen.contains(path) { s.files[path] = nil } }
    }

    private func refreshLibrary(_ schemas: InvocationSchemaTable) async {
        if let readAt = state.withLock({ $0.libraryReadAt }), Date().timeIntervalSince(readAt) < libraryTTL { return }
        var listed: [(id: String, updated: String, created: String, title: String)] = []
        var page = 0
        do {
            while page < 50 {
                let answer = try await client.workflows(categories: ["user", "default"], page: page, perPage: 100)
                for item in answer["items"]?.arrayValue ?? [] {
                    guard let id = item["workflow_id"]?.stringValue else { continue }
                    listed.append((id, item["updated_at"]?.stringValue ?? "", item["created_at"]?.stringValue ?? "", item["name"]?.stringValue ?? id))
                }
                page += 1
                if page >= (answer["pages"]?.intValue ?? 1) { break }
            }
        } catch {
            // The library is a convenience: without it, the files still answer.
            logger.warning("InvokeAI's workflow library could not be read: \(error)")
            return
        }
        var fresh: [String: LibraryEntry] = [:]
        for item in listed {
            if let known = state.withLock({ $0.library[item.id] }), known.updatedAt == item.updated {
                fresh[item.id] = known
                continue
            }
            guard let record = try? await client.workflow(item.id), let json = record["workflow"],
                  let workflow = try? Workflow.parse(json, schemas: schemas) else { continue }
            fresh[item.id] = LibraryEntry(updatedAt: item.updated, createdAt: item.created, title: item.title, workflow: workflow)
        }
        state.withLock { $0.library = fresh; $0.libraryReadAt = Date() }
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
        state.withLock { _ = $0.files.removeValue(forKey: path) }
        return Entry(name: name, source: .file, workflow: workflow, location: path)
    }

    /// Removes an uploaded (file) workflow.
    public func remove(_ entry: Entry) throws {
        guard entry.source == .file else { throw CatalogError.notAFile(entry.name) }
        try FileManager.default.removeItem(atPath: entry.location)
        state.withLock { _ = $0.files.removeValue(forKey: entry.location) }
    }

    public enum CatalogError: Error, CustomStringConvertible {
        case noDirectory, badName(String), notAFile(String)
        public var description: String {
            switch self {
            case .noDirectory: "the gateway has no workflows folder (--workflows) to store uploads in"
            case .badName(let name): "'\(name)' is not a valid workflow name (lowercase letters, digits and single dashes)"
            case .notAFile(let name): "workflow \(name) comes from InvokeAI's library; delete it there"
            }
        }
    }
}
