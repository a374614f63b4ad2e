import Foundation

/// The host names a request may be addressed to (`Host`, or HTTP/2's `:authority`), with any
/// port: the loopback names, the address the gateway listens on, and those configured
/// (`--allowed-host`). `*` allows any. A browser sends the name from the URL it loaded, so a
/// page whose DNS name was rebound to the gateway's address is told apart by its name.
public struct AllowedHosts: Sendable, Equatable {
    /// Lower case, IPv6 literals without brackets.
    public private(set) var names: Set<String>
    public var allowsAny: Bool { names.contains("*") }

    public static let loopback: Set<String> = ["localhost", "127.0.0.1", "::1"]

    /// `bindAddress`: the `--host` the gateway listens on (a wildcard such as `0.0.0.0` or `::`
    /// names no host and is not added); `configured`: names or addresses, `*` for any.
    public init(bindAddress: String, configured: [String] = []) {
        var names = Self.loopback
        let bound = Self.normalized(bindAddress)
        if bound != "0.0.0.0", bound != "::", !bound.isEmpty { names.insert(bound) }
        for name in configured { names.insert(Self.normalized(name)) }
        self.names = names
    }

    /// Whether a `Host` value (`name`, `name:port`, `[v6]`, `[v6]:port`) is one of the names.
    public func allows(_ host: String) -> Bool {
        allowsAny || names.contains(Self.normalized(Self.name(ofHost: host)))
    }

    /// The name part of a Host value, without the port.
    static func name(ofHost host: String) -> String {
        if host.hasPrefix("["), let end = host.firstIndex(of: "]") {
            return String(host[host.index(after: host.startIndex)..<end])
        }
        if let colon = host.lastIndex(of: ":"), host[host.index(after: colon)...].allSatisfy(\.isASCIIDigit) {
            return String(host[..<colon])
        }
        return host
    }

    /// Lower case, no brackets, no trailing dot (`localhost.` is `localhost`).
    static func normalized(_ name: String) -> String {
        var name = name.trimmingCharacters(in: [" "]).lowercased()
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.hasSuffix("."), name.count > 1 { name.removeLast() }
        return name
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
