import HTTPServer

/// The gateway's own kinds of problem, beside the HTTP layer's (`ProblemType.http`). Every
/// `type` a gateway answer can carry is in `all`: the `/problems/{slug}` pages, the README's
/// table and the OpenAPI document's `x-problem-types` list them, and a test holds them equal.
extension ProblemType {
    public static let invalidInputs = ProblemType(
        "invalid-inputs", title: "Invalid inputs", statuses: [422],
        summary:
            "Input values of a run request are not valid for the workflow (or InvokeAI refused the graph they make); `errors` lists each, with the input's index and system name."
    )
    public static let workflowDrifted = ProblemType(
        "workflow-drifted", title: "Workflow drifted", statuses: [412],
        summary:
            "The workflow changed since the fingerprint sent in `If-Match`; `fingerprint` is the current one and `drift` what changed (when the old version is known)."
    )
    public static let idempotencyKeyReused = ProblemType(
        "idempotency-key-reused", title: "Idempotency key reused", statuses: [422],
        summary:
            "The `Idempotency-Key` was already used with another request (another workflow or body); `run` names the run it made."
    )
    public static let idempotencyStoreFailed = ProblemType(
        "idempotency-store-failed", title: "Idempotency key not stored", statuses: [503],
        summary:
            "The gateway could not write the key to its state folder, so it did not enqueue the run; retry after `Retry-After` seconds."
    )
    public static let upstreamUnavailable = ProblemType(
        "upstream-unavailable", title: "Upstream unavailable", statuses: [503],
        summary: "The gateway cannot connect to InvokeAI; retry after `Retry-After` seconds.")
    public static let upstreamTimeout = ProblemType(
        "upstream-timeout", title: "Upstream timed out", statuses: [504],
        summary: "InvokeAI did not answer within the call's bound.")
    public static let upstreamOutcomeUnknown = ProblemType(
        "upstream-outcome-unknown", title: "Upstream outcome unknown", statuses: [504],
        summary:
            "An enqueue's answer was lost: the run may exist. `run` names it; `GET /v1/runs/{run}` tells once InvokeAI answers, and a retry with the same Idempotency-Key never enqueues it twice."
    )
    public static let upstreamError = ProblemType(
        "upstream-error", title: "Upstream error", statuses: [502],
        summary:
            "InvokeAI answered with an error or something the gateway could not read; `upstream_status` and `upstream_detail` carry InvokeAI's own answer when there was one."
    )
    public static let upstreamRefused = ProblemType(
        "upstream-refused", title: "Refused by InvokeAI", statuses: [422],
        summary:
            "InvokeAI refused a value the request named (a board, a filter); `upstream_detail` is InvokeAI's reason.")
    public static let invalidWorkflow = ProblemType(
        "invalid-workflow", title: "Invalid workflow", statuses: [422],
        summary: "An uploaded workflow definition is not a workflow the gateway can read; `detail` says why.")
    public static let workflowQuotaExceeded = ProblemType(
        "workflow-quota-exceeded", title: "Workflow quota exceeded", statuses: [507],
        summary: "The workflows folder holds as many uploaded definitions (or bytes) as it may.")
    public static let rateLimited = ProblemType(
        "rate-limited", title: "Rate limited", statuses: [429],
        summary: "The API key made more requests per second than it may; retry after `Retry-After` seconds.")
    public static let tooManyRuns = ProblemType(
        "too-many-runs", title: "Too many runs", statuses: [429],
        summary: "The key's tenant has as many runs not ended as it may have at once; retry once one ends.")
    public static let tooManySubscribers = ProblemType(
        "too-many-subscribers", title: "Too many event subscribers", statuses: [503],
        summary: "The gateway serves as many event streams as it may; retry after `Retry-After` seconds.")
    public static let missingScope = ProblemType(
        "missing-scope", title: "Missing scope", statuses: [403],
        summary: "The API key lacks the scope the operation needs (`missing_scope`); admin includes read and run.")
    public static let crossSiteRequest = ProblemType(
        "cross-site-request", title: "Cross-site request refused", statuses: [403],
        summary:
            "A browser sent a POST, PUT, PATCH or DELETE from another site; the operator can allow an origin with --cors-origin."
    )
    public static let unknownHost = ProblemType(
        "unknown-host", title: "Unknown host", statuses: [421],
        summary:
            "The request's `Host` (HTTP/2 `:authority`) is not a name the gateway answers to (DNS rebinding guard); the operator can allow it with --allowed-host."
    )
    public static let runStateConflict = ProblemType(
        "run-state-conflict", title: "Run state conflict", statuses: [409],
        summary:
            "The run is not in a state the request needs (cancelling an ended run; deleting the outputs of one that has not ended)."
    )
    public static let noSingleImage = ProblemType(
        "no-single-image", title: "No single image", statuses: [406],
        summary:
            "`Accept` asked for an image only, and the run has not ended, did not complete, has not exactly one output image, or its one image was deleted since. `images` lists the image URLs it has (fetch each from /v1/images/{name}); ask with `Accept: application/json` for the run itself."
    )
    public static let workflowNotRunnable = ProblemType(
        "workflow-not-runnable", title: "Workflow cannot run here", statuses: [422],
        summary:
            "Something in the workflow itself (a missing model, an unknown node type, ...) keeps it from running on this InvokeAI; `errors` lists each cause with its `kind`."
    )
    public static let workflowNameTaken = ProblemType(
        "workflow-name-taken", title: "Name taken by InvokeAI's library", statuses: [409],
        summary: "An uploaded definition may not take the name of a workflow from InvokeAI's library (`library_id`).")
    public static let notReady = ProblemType(
        "not-ready", title: "Not ready", statuses: [503],
        summary:
            "The gateway cannot serve runs now (InvokeAI unreachable or its event stream down); `/readyz` says which.")

    /// Every kind a gateway answer can name, the HTTP layer's first.
    public static let all: [ProblemType] =
        http + [
            .invalidInputs, .workflowDrifted, .idempotencyKeyReused, .idempotencyStoreFailed, .upstreamUnavailable,
            .upstreamTimeout, .upstreamOutcomeUnknown, .upstreamError, .upstreamRefused, .invalidWorkflow,
            .workflowQuotaExceeded, .rateLimited, .tooManyRuns, .tooManySubscribers, .missingScope, .crossSiteRequest,
            .unknownHost, .runStateConflict, .noSingleImage, .notReady, .workflowNotRunnable, .workflowNameTaken,
        ]
}
