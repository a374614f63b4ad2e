/// Which listening addresses only this machine can reach: there the gateway may serve without
/// keys (everyone is the anonymous admin); anywhere else it needs a keys file, or the operator's
/// `--allow-unauthenticated`.
public enum ServeAddress {
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || bare == "::1" { return true }
        let parts = bare.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}
