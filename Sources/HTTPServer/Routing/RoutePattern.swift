/// A path pattern such as `/v1/workflows/{name}/runs`. Segments in braces capture one
/// percent-decoded path segment each; the rest must match exactly.
struct RoutePattern: Sendable, CustomStringConvertible {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
    }

    let text: String
    let segments: [Segment]

    init(_ text: String) {
        precondition(text.hasPrefix("/"), "route patterns start with /")
        self.text = text
        segments = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map { part in
            if part.hasPrefix("{") && part.hasSuffix("}") { return .parameter(String(part.dropFirst().dropLast())) }
            return .literal(String(part))
        }
    }

    /// The captured parameters when `pathSegments` (raw, still encoded) match, else nil.
    func match(_ pathSegments: [Substring]) -> [String: String]? {
        guard pathSegments.count == segments.count else { return nil }
        var parameters: [String: String] = [:]
        for (segment, raw) in zip(segments, pathSegments) {
            switch segment {
            case .literal(let literal):
                guard raw == literal else { return nil }
            case .parameter(let name):
                guard !raw.isEmpty, let value = PercentEncoding.decode(String(raw)) else { return nil }
                parameters[name] = value
            }
        }
        return parameters
    }

    var description: String { text }
}
