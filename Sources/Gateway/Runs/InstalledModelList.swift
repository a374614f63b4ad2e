import HTTPCore
import HTTPServer
import InvokeAI
import JSONValue
import Synchronization
import Workflows

/// InvokeAI's installed models, for saying whether workflows can run: read at most once per
/// `ttl` (describing 30 workflows makes one call, not 30), nil while InvokeAI cannot be asked.
/// A run's own check always reads the list afresh (`RunPreparation`).
final class InstalledModelList: Sendable {
    private let client: InvokeAIClient
    private let ttl: Double
    private let cached = Mutex<(models: [InstalledModel], readAt: Double)?>(nil)

    init(client: InvokeAIClient, ttl: Double = 5) {
        self.client = client
        self.ttl = ttl
    }

    /// The list as last read and when (its stamp), while it is fresh; nil when a read is due.
    func currentWithoutIO() -> (models: [InstalledModel], stamp: Double)? {
        guard let held = cached.withLock({ $0 }), MonotonicClock.seconds() - held.readAt < ttl else { return nil }
        return (held.models, held.readAt)
    }

    /// The list, read again when it is older than `ttl`; nil when InvokeAI cannot be asked.
    func current() async -> [InstalledModel]? {
        if let (models, _) = currentWithoutIO() { return models }
        // Nil is "could not be read", and callers say so (`runnable_reason`).
        guard let list = try? await client.models() else { return nil }
        let models = list.map(InstalledModel.init(json:))
        cached.withLock { $0 = (models, MonotonicClock.seconds()) }
        return models
    }

    /// The models these entries are judged against, without I/O: `[]` (stamp 0) when none of
    /// them stores a model reference, the held list and its stamp while fresh; nil when a read
    /// is due or an entry was not checked against InvokeAI's live schemas.
    func modelsWithoutIO(for entries: [WorkflowCatalog.Entry]) -> (models: [InstalledModel], stamp: Double)? {
        guard entries.allSatisfy(\.schemasLive) else { return nil }
        guard entries.contains(where: { !$0.workflow.modelReferences.isEmpty }) else { return ([], 0) }
        return currentWithoutIO()
    }

    /// Whether the entry can run against `models` (its live schemas known), as `{"runnable", "issues", "models"}`.
    static func runnability(of entry: WorkflowCatalog.Entry, against models: [InstalledModel]) -> JSONValue {
        entry.workflow.runnability(installed: models, allowAny: false).json
    }

    /// Whether the entry can run here, as `{"runnable", "issues", "models"}`; runnable null with a
    /// reason when InvokeAI could not be asked.
    func runnability(of entry: WorkflowCatalog.Entry) async -> JSONValue {
        guard entry.schemasLive else {
            // Read against saved schemas (or none): what they say of node types proves nothing now.
            var json = entry.workflow.runnability(installed: nil, allowAny: false).json.objectValue ?? [:]
            json["runnable"] = .null
            json["issues"] = []
            json["runnable_reason"] = "InvokeAI is not reachable: whether this workflow can run there is unknown"
            return .object(json)
        }
        let models = entry.workflow.modelReferences.isEmpty ? [] : await current()
        var json = Self.runnability(of: entry, against: models ?? []).objectValue ?? [:]
        if models == nil { json["runnable_reason"] = "InvokeAI's installed models could not be read" }
        return .object(json)
    }
}
