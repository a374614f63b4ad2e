import Foundation
import Testing

/// Where the live InvokeAI is: `INVOKEAI_URL`, set by `scripts/invokeai-harness run`.
/// Live tests fail when it is missing, unless `GATEWAY_SKIP_LIVE=1` asks to skip them
/// (they then show as skipped, with this reason).
enum LiveEnvironment {
    static let skipRequested = ProcessInfo.processInfo.environment["GATEWAY_SKIP_LIVE"] == "1"
    static let skipReason: Comment = "GATEWAY_SKIP_LIVE=1: live InvokeAI tests skipped on request"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "INVOKEAI_URL is not set: run the tests with scripts/test (it starts InvokeAI), "
                + "or set GATEWAY_SKIP_LIVE=1 to skip the live tests explicitly"
        }
    }

    static func invokeAIURL() throws -> URL {
        guard let text = ProcessInfo.processInfo.environment["INVOKEAI_URL"], let url = URL(string: text) else {
            throw Missing()
        }
        return url
    }
}
