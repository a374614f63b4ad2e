import HTTPCore

/// A header value of the form `value; name=token; name="quoted string"`, as Content-Type and
/// Content-Disposition use it. The value and parameter names are lowercased; parameter values are
/// kept as sent, with quoted strings unescaped.
public struct ParameterizedValue: Sendable, Equatable {
    public var value: String
    public var parameters: [String: String]

    public init(parsing text: String) {
        var scalars = Substring(text).unicodeScalars[...]
        func skipWhitespace() { while let c = scalars.first, c == " " || c == "\t" { scalars.removeFirst() } }
        func take(until stop: (Unicode.Scalar) -> Bool) -> String {
            var out = String.UnicodeScalarView()
            while let c = scalars.first, !stop(c) { out.append(c); scalars.removeFirst() }
            return String(out)
        }
        value = take(until: { $0 == ";" }).trimmingHTTPWhitespace().lowercased()
        var parameters: [String: String] = [:]
        while scalars.first == ";" {
            scalars.removeFirst()
            skipWhitespace()
            let name = take(until: { $0 == "=" || $0 == ";" }).trimmingHTTPWhitespace().lowercased()
            guard scalars.first == "=" else { continue }
            scalars.removeFirst()
            skipWhitespace()
            var parameterValue = ""
            if scalars.first == "\"" {
                scalars.removeFirst()
                var out = String.UnicodeScalarView()
                while let c = scalars.first {
                    scalars.removeFirst()
                    if c == "\"" { break }
                    if c == "\\", let escaped = scalars.first { out.append(escaped); scalars.removeFirst(); continue }
                    out.append(c)
                }
                parameterValue = String(out)
                _ = take(until: { $0 == ";" })
            } else {
                parameterValue = take(until: { $0 == ";" }).trimmingHTTPWhitespace()
            }
            // The first occurrence wins: a repeated parameter must not override an earlier one.
            if !name.isEmpty, parameters[name] == nil { parameters[name] = parameterValue }
        }
        self.parameters = parameters
    }
}
