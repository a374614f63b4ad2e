import InvokeAI
import JSONValue

/// The three InvokeAI calls the catalog makes, as a seam: unit tests hand in a counting fake.
public struct WorkflowCatalogUpstream: Sendable {
    /// `GET /openapi.json`.
    public var openAPI: @Sendable () async throws(InvokeAIError) -> JSONValue
    /// One page (from 0) of the library's user and default workflows.
    public var libraryPage: @Sendable (_ page: Int) async throws(InvokeAIError) -> JSONValue
    /// One library record, the workflow under `workflow`.
    public var libraryWorkflow: @Sendable (_ id: String) async throws(InvokeAIError) -> JSONValue
    /// The library's most recently updated workflow and the total: a page of one, sorted by
    /// `updated_at` descending. Tells cheaply whether anything was added, changed or deleted
    /// (InvokeAI answers it in ~4 ms; the full listing takes 20-35 ms of its time).
    public var libraryNewest: @Sendable () async throws(InvokeAIError) -> JSONValue

    public init(
        openAPI: @escaping @Sendable () async throws(InvokeAIError) -> JSONValue,
        libraryPage: @escaping @Sendable (_ page: Int) async throws(InvokeAIError) -> JSONValue,
        libraryWorkflow: @escaping @Sendable (_ id: String) async throws(InvokeAIError) -> JSONValue,
        libraryNewest: @escaping @Sendable () async throws(InvokeAIError) -> JSONValue
    ) {
        self.openAPI = openAPI
        self.libraryPage = libraryPage
        self.libraryWorkflow = libraryWorkflow
        self.libraryNewest = libraryNewest
    }

    public init(client: InvokeAIClient) {
        self.init(
            openAPI: { () async throws(InvokeAIError) in try await client.openAPI() },
            libraryPage: { (page) async throws(InvokeAIError) in
                try await client.workflows(categories: ["user", "default"], page: page, perPage: 100)
            },
            libraryWorkflow: { (id) async throws(InvokeAIError) in try await client.workflow(id) },
            libraryNewest: { () async throws(InvokeAIError) in
                try await client.workflows(
                    categories: ["user", "default"], page: 0, perPage: 1, orderBy: "updated_at", descending: true)
            })
    }
}
