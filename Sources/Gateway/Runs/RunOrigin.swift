/// What the gateway writes as a batch's `origin` in InvokeAI: the workflow, and the tenant that
/// owns the run, so ownership lives in InvokeAI's record (every gateway process, every restart
/// reads the same). `invokeai-gateway:<workflow>` for the anonymous tenant (as before tenancy
/// existed: such runs belong to it), `invokeai-gateway@<tenant>:<workflow>` for a key's tenant.
/// Tenants hold no `:` (`APIKeyRecord.isValidTenant`); InvokeAI 6.14.2 keeps `origin` as an
/// unbounded TEXT column (no length limit in its model either).
struct RunOrigin: Equatable {
    var workflow: String
    /// `""`: the anonymous tenant.
    var owner: String

    static let prefix = "invokeai-gateway"

    var text: String {
        owner.isEmpty ? "\(Self.prefix):\(workflow)" : "\(Self.prefix)@\(owner):\(workflow)"
    }

    init(workflow: String, owner: String) {
        self.workflow = workflow
        self.owner = owner
    }

    /// Nil for an origin the gateway did not write.
    init?(parsing origin: String?) {
        guard let origin, origin.hasPrefix(Self.prefix) else { return nil }
        let rest = origin.dropFirst(Self.prefix.count)
        if rest.hasPrefix(":") {
            self.init(workflow: String(rest.dropFirst()), owner: "")
        } else if rest.hasPrefix("@"), let colon = rest.firstIndex(of: ":") {
            let owner = String(rest[rest.index(after: rest.startIndex)..<colon])
            guard !owner.isEmpty else { return nil }
            self.init(workflow: String(rest[rest.index(after: colon)...]), owner: owner)
        } else {
            return nil
        }
    }
}
