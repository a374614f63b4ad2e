import Foundation
import Gateway
import InvokeAI
import JSONValue
import Synchronization
import TestSupport

/// InvokeAI as the workflow catalog sees it, in memory: one invocation type (`string`), a
/// library that tests edit, call counters, and gates that hold calls in flight.
final class FakeCatalogUpstream: Sendable {
    let openAPICalls = Mutex(0)
    let pageCalls = Mutex(0)
    let recordCalls = Mutex(0)
    let probeCalls = Mutex(0)
    let openAPIGate = Gate(open: true)
    let pageGate = Gate(open: true)
    let failOpenAPI = Mutex(false)
    let failPages = Mutex(false)
    /// Library workflows by id: (title, updated_at).
    let library = Mutex<[String: (title: String, updated: String)]>([:])

    static let openAPI: JSONValue = [
        "components": [
            "schemas": [
                "StringInvocation": [
                    "class": "invocation",
                    "properties": [
                        "type": ["default": "string"],
                        "value": ["type": "string", "default": "", "field_kind": "input", "title": "Value"],
                    ], "output": ["$ref": "#/components/schemas/StringOutput"],
                ],
                "StringOutput": ["properties": ["value": ["type": "string"]]],
            ]
        ]
    ]

    /// A workflow of one `string` node whose value is in the form, labelled `label`.
    static func workflow(name: String, label: String = "Text") -> JSONValue {
        [
            "name": .string(name), "meta": ["version": "3.0.0", "category": "user"], "edges": [], "exposedFields": [],
            "nodes": [
                [
                    "id": "n1", "type": "invocation",
                    "data": [
                        "id": "n1", "type": "string", "label": "", "isIntermediate": true, "useCache": true,
                        "version": "1.0.0",
                        "inputs": ["value": ["name": "value", "label": .string(label), "value": "hi"]],
                    ],
                ]
            ],
            "form": [
                "rootElementId": "root",
                "elements": [
                    "root": ["id": "root", "type": "container", "data": ["layout": "column", "children": ["f1"]]],
                    "f1": [
                        "id": "f1", "type": "node-field", "parentId": "root",
                        "data": ["fieldIdentifier": ["nodeId": "n1", "fieldName": "value"]],
                    ],
                ],
            ],
        ]
    }

    var upstream: WorkflowCatalogUpstream {
        WorkflowCatalogUpstream(
            openAPI: { () async throws(InvokeAIError) in
                self.openAPICalls.withLock { $0 += 1 }
                await self.openAPIGate.pass()
                if self.failOpenAPI.withLock({ $0 }) { throw InvokeAIError.cannotConnect("GET /openapi.json: refused") }
                return Self.openAPI
            },
            libraryPage: { (page) async throws(InvokeAIError) in
                self.pageCalls.withLock { $0 += 1 }
                await self.pageGate.pass()
                if self.failPages.withLock({ $0 }) {
                    throw InvokeAIError.cannotConnect("GET /api/v1/workflows/: refused")
                }
                let items: [JSONValue] = self.library.withLock { library in
                    library.sorted { $0.key < $1.key }.map { id, item in
                        [
                            "workflow_id": .string(id), "name": .string(item.title),
                            "updated_at": .string(item.updated),
                            "created_at": .string(id),
                        ]
                    }
                }
                return ["items": .array(items), "page": .int(page), "pages": 1]
            },
            libraryWorkflow: { (id) async throws(InvokeAIError) in
                self.recordCalls.withLock { $0 += 1 }
                guard let item = self.library.withLock({ $0[id] }) else {
                    throw InvokeAIError.status(404, message: "no such workflow", detail: nil)
                }
                return ["workflow_id": .string(id), "workflow": Self.workflow(name: item.title)]
            },
            libraryNewest: { () async throws(InvokeAIError) in
                self.probeCalls.withLock { $0 += 1 }
                if self.failPages.withLock({ $0 }) {
                    throw InvokeAIError.cannotConnect("GET /api/v1/workflows/: refused")
                }
                return self.library.withLock { library in
                    let newest = library.max { ($0.value.updated, $0.key) < ($1.value.updated, $1.key) }
                    let items: [JSONValue] =
                        newest.map { [["workflow_id": .string($0.key), "updated_at": .string($0.value.updated)]] } ?? []
                    return ["total": .int(library.count), "items": .array(items)]
                }
            })
    }

    func count(_ counter: borrowing Mutex<Int>) -> Int { counter.withLock { $0 } }
}
