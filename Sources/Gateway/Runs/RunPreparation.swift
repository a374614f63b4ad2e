import Foundation
import HTTPServer
import InvokeAI
import JSONValue
import Workflows

/// Everything a run request is checked against before anything is enqueued: the workflow can
/// run on this InvokeAI (node types it knows, required fields filled, stored model references
/// that resolve), the inputs are valid, and the boards named exist. Every cause is reported at
/// once in one 422, bounded to `maxErrors`.
struct RunPreparation: Sendable {
    let client: InvokeAIClient
    static let maxErrors = 100

    struct Prepared: Sendable {
        var inputs: ResolvedInputs
        /// The stored model references and what each resolved to, for the run's record.
        var models: JSONValue?
    }

    func prepare(_ entry: WorkflowCatalog.Entry, inputs: JSONObject, board: JSONValue?, anyModel: Bool) async throws
        -> Prepared
    {
        let workflow = entry.workflow
        var errors: [JSONValue] = workflow.staticIssues.map(\.json)

        let needsModels = workflow.inputs.contains { $0.type == "model" } || !workflow.modelReferences.isEmpty
        var models: [InstalledModel] = []
        if needsModels {
            models = try await client.models().map(InstalledModel.init(json:))
        }
        var resolved = ResolvedInputs()
        // Errors beyond the bound are only counted, by the validation itself.
        var omitted = 0
        switch workflow.validate(inputs.dictionary, models: models, board: board, maxErrors: Self.maxErrors) {
        case .success(let values): resolved = values
        case .failure(let failure):
            errors += failure.errors.map(\.json)
            omitted = failure.omitted
        }
        let resolution = workflow.resolveModels(installed: models, allowAnyOfBaseAndType: anyModel, given: resolved)
        errors += resolution.issues.map(\.json)
        resolved.merge(resolution)

        errors += try await checkBoards(&resolved, workflow)
        guard errors.isEmpty, omitted == 0 else { throw Self.refusal(errors, omitted: omitted, workflow: entry.name) }
        return Prepared(
            inputs: resolved, models: resolution.resolutions.isEmpty ? nil : .array(resolution.resolutions.map(\.json)))
    }

    /// Board values given by the request (board inputs, and the run's `board` applied to output
    /// nodes) must name a board InvokeAI has: by id, or by a name only one board has (then
    /// replaced by its id). InvokeAI itself would save the images uncategorized.
    private func checkBoards(_ resolved: inout ResolvedInputs, _ workflow: Workflow) async throws -> [JSONValue] {
        let named = workflow.boardReferences(in: resolved)
        guard !named.isEmpty else { return [] }
        let boards = try await client.boards(includeArchived: true)
        let ids = Set(boards.compactMap { $0["board_id"]?.stringValue })
        var byName: [String: [String]] = [:]
        for board in boards {
            if let name = board["board_name"]?.stringValue, let id = board["board_id"]?.stringValue {
                byName[name, default: []].append(id)
            }
        }
        var errors: [JSONValue] = []
        for board in named where !ids.contains(board.id) {
            if let match = byName[board.id], match.count == 1 {
                resolved.setBoard(match[0], for: board)
                continue
            }
            let why =
                (byName[board.id]?.count ?? 0) > 1
                ? "more than one board is named '\(board.id)': give its id"
                : "InvokeAI has no board '\(board.id)' (GET /v1/boards lists them)"
            errors.append([
                "input": .string(board.inputIndex.map { String($0) } ?? "board"),
                "index": board.inputIndex.map { .int($0) } ?? .null,
                "system_name": .string(board.systemName), "message": .string(why),
            ])
        }
        return errors
    }

    static func refusal(_ errors: [JSONValue], omitted: Int = 0, workflow: String) -> HTTPError {
        let shown = Array(errors.prefix(maxErrors))
        let total = errors.count + omitted
        var extensions: [String: JSONValue] = ["errors": .array(shown)]
        if total > shown.count { extensions["errors_omitted"] = .int(total - shown.count) }
        // Input errors alone: the caller can fix them. A cause in the workflow itself (`kind`): it
        // cannot run on this InvokeAI as it is.
        let type: ProblemType = errors.contains { $0["kind"] != nil } ? .workflowNotRunnable : .invalidInputs
        return HTTPError(
            .unprocessableContent,
            "\(total) problem\(total == 1 ? "" : "s") with this run of workflow \(workflow); nothing was enqueued",
            type: type, extensions: extensions)
    }
}
