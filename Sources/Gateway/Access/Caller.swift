/// Who made a request, as the access policy resolved it: the key's tenant and scopes, or the
/// anonymous admin when the gateway runs without keys.
public struct Caller: Sendable, Equatable {
    /// The key's id; nil for the anonymous caller.
    public let keyID: String?
    /// Whose runs and images this caller sees; `""` is the anonymous tenant (and runs enqueued
    /// before tenancy existed).
    public let tenant: String
    public let scopes: Set<Scope>
    /// Runs of the tenant not ended yet beyond which a submission is refused (429); nil: no limit.
    public let maxConcurrentRuns: Int?
    /// The key's name, for the access log (never the key itself); nil for the anonymous caller.
    public let keyName: String?

    public init(
        keyID: String?, tenant: String, scopes: Set<Scope>, maxConcurrentRuns: Int? = nil, keyName: String? = nil
    ) {
        self.keyID = keyID
        self.keyName = keyName
        self.tenant = tenant
        self.scopes = scopes
        self.maxConcurrentRuns = maxConcurrentRuns
    }

    public init(_ key: ActiveKey) {
        self.init(
            keyID: key.record.id, tenant: key.record.tenant, scopes: Set(key.record.scopes),
            maxConcurrentRuns: key.record.maxConcurrentRuns, keyName: key.record.name)
    }

    /// Without a keys file, on loopback: everyone is an admin of one anonymous tenant.
    public static let anonymous = Caller(keyID: nil, tenant: "", scopes: Set(Scope.allCases))

    /// An open route's caller when keys are required: no scope, no tenant of its own.
    public static let nobody = Caller(keyID: nil, tenant: "", scopes: [])

    public var isAdmin: Bool { scopes.contains(.admin) }

    /// `admin` includes every scope.
    public func has(_ scope: Scope) -> Bool { isAdmin || scopes.contains(scope) }

    /// Whether this caller may see and touch something owned by `owner` (a tenant).
    public func mayAccess(owner: String) -> Bool { isAdmin || (owner == tenant && !scopes.isEmpty) }

    /// The tenant filter for lists and streams: nil (everything) for an admin.
    public var ownerFilter: String? { isAdmin ? nil : tenant }
}
