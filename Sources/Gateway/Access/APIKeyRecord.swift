import Foundation

/// One key as the keys file keeps it: never the key itself, only its SHA-256.
public struct APIKeyRecord: Codable, Sendable, Equatable {
    /// Stable and not secret: names the key in `keys list` and `keys revoke`, and is its
    /// tenant when none was given.
    public var id: String
    public var name: String
    /// SHA-256 of the key, 64 lowercase hex digits.
    public var sha256: String
    public var scopes: [Scope]
    /// Whose runs and images the key sees: keys with one tenant share them.
    public var tenant: String
    public var created: Date
    public var revoked: Bool
    /// Requests per second this key may make (a token bucket of one second's worth); nil: no limit.
    public var requestsPerSecond: Double?
    /// Runs of the key's tenant not ended yet beyond which its submissions are refused; nil: no limit.
    public var maxConcurrentRuns: Int?

    enum CodingKeys: String, CodingKey {
        case id, name, sha256, scopes, tenant, created, revoked
        case requestsPerSecond = "requests_per_second"
        case maxConcurrentRuns = "max_concurrent_runs"
    }

    public init(
        id: String, name: String, sha256: String, scopes: [Scope], tenant: String, created: Date, revoked: Bool = false,
        requestsPerSecond: Double? = nil, maxConcurrentRuns: Int? = nil
    ) {
        self.id = id
        self.name = name
        self.sha256 = sha256
        self.scopes = scopes
        self.tenant = tenant
        self.created = created
        self.revoked = revoked
        self.requestsPerSecond = requestsPerSecond
        self.maxConcurrentRuns = maxConcurrentRuns
    }

    /// Tenants go into InvokeAI's record of each run (`RunOrigin`): a short, plain word.
    public static func isValidTenant(_ tenant: String) -> Bool {
        (1...64).contains(tenant.utf8.count)
            && tenant.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                    || byte == 0x2d || byte == 0x2e || byte == 0x5f
            }
    }

    /// Names are for people: 1 to 64 characters, no control characters.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && !name.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

/// A key that is in force: its record with the hash as bytes, for comparing.
public struct ActiveKey: Sendable, Equatable {
    public let record: APIKeyRecord
    let hash: [UInt8]

    init?(_ record: APIKeyRecord) {
        guard !record.revoked, let hash = Self.bytes(hex: record.sha256), hash.count == 32 else { return nil }
        self.record = record
        self.hash = hash
    }

    static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = nibble(digits[index]), let low = nibble(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: nil
        }
    }
}
