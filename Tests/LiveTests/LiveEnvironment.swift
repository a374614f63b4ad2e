import Foundation
import Testing

/// Where the live InvokeAI is: `INVOKEAI_URL`, set by `scripts/invokeai-harness run` (which
/// `scripts/test` uses). Every live test fails when it is missing, unless `GATEWAY_SKIP_LIVE=1`
/// asks to skip them (they then show as skipped, with this reason).
enum LiveEnvironment {
    static let variables = ProcessInfo.processInfo.environment
    static let skipRequested = variables["GATEWAY_SKIP_LIVE"] == "1"
    static let skipReason: Comment = "GATEWAY_SKIP_LIVE=1: live InvokeAI tests skipped on request"

    struct Missing: Error, CustomStringConvertible {
        var description: String {
            "INVOKEAI_URL is not set: run the tests with scripts/test (it starts InvokeAI) or under "
                + "scripts/invokeai-harness run, or set GATEWAY_SKIP_LIVE=1 to skip the live tests explicitly"
        }
    }

    /// The repository's top folder (for scripts/), from this file's place in Tests/LiveTests/.
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func invokeAIURL() throws -> URL {
        guard let text = variables["INVOKEAI_URL"], let url = URL(string: text) else { throw Missing() }
        return url
    }
}
