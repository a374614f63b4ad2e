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

    public init(openAPI: @escaping @Sendable () async throws(InvokeAIError) -> JSONValue,
                libraryPage: @escaping @Sendable (_ page: Int) async throws(InvokeAIError) -> JSONValue,
                libraryWorkflow: @escaping @Sendable (_ id: String) async throws(InvokeAIError) -> JSONValue) {
        self.openAPI = openAPI
        self.libraryPage = libraryPage
        self.libraryWorkflow = libraryWorkflow
    }

    public init(client: InvokeAIClient) {
        self.init(openAPI: { () async throws(InvokeAIError) in try await client.openAPI() },
                  libraryPage: { (page) async throws(InvokeAIError) in
                      try await client.workflows(categories: ["user", "default"], page: page, perPage: 100)
                  },
                  libraryWorkflow: { (id) async throws(InvokeAIError) in try await client.workflow(id) })
    }
}
