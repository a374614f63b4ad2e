import Testing

@testable import InvokeAI

/// The endpoint label of an upstream call: ids replaced, so the label set stays bounded.
@Suite struct InvokeAICallTests {
    @Test(arguments: [
        ("GET", "api/v1/queue/default/i/42", "GET /api/v1/queue/{queue_id}/i/{id}"),
        ("POST", "api/v1/queue/default/enqueue_batch", "POST /api/v1/queue/{queue_id}/enqueue_batch"),
        (
            "GET", "api/v1/queue/default/b/2c3e0d5a-1b2c-4d5e-8f90-123456789abc/status",
            "GET /api/v1/queue/{queue_id}/b/{id}/status"
        ),
        ("GET", "api/v1/images/i/5f1c3a2b-aaaa-bbbb-cccc-0123456789ab.png/full", "GET /api/v1/images/i/{id}/full"),
        ("DELETE", "api/v1/images/i/some_image.png", "DELETE /api/v1/images/i/{id}"),
        ("GET", "api/v2/models/i/deadbeefcafe", "GET /api/v2/models/i/{id}"),
        ("GET", "api/v1/app/version", "GET /api/v1/app/version"),
        ("GET", "openapi.json", "GET /{id}"),
    ])
    func endpointTemplates(method: String, path: String, expected: String) {
        #expect(InvokeAICall.endpoint(method: method, path: path) == expected)
    }
}
