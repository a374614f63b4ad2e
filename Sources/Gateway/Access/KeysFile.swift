import Digests
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The keys file the operator owns (`--keys-file`): JSON, mode 0600, rewritten atomically
/// (a new file renamed over the old, so a reader never sees half of one).
///
/// ```json
/// {"keys": [{"created": "2026-12-07T03:00:00Z", "id": "key_3f9a1c2b7d0e", "name": "ci",
///   "revoked": false, "scopes": ["read", "run"], "sha256": "<64 hex digits>", "tenant": "key_3f9a1c2b7d0e"}],
///  "version": 1}
/// ```
public struct KeysFile: Sendable, Equatable {
    public var keys: [APIKeyRecord]

    public init(keys: [APIKeyRecord] = []) { self.keys = keys }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let message: String
        public init(_ message: String) { self.message = message }
        public var description: String { message }
    }

    private struct Document: Codable {
        var version: Int
        var keys: [APIKeyRecord]
    }

    // MARK: reading and writing

    /// Reads and checks the file: every record well formed, ids and hashes unique.
    public static func read(path: String) throws(Failure) -> KeysFile {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw Failure("cannot read keys file \(path): \(error.localizedDescription)")
        }
        return try parse(data, path: path)
    }

    /// The file, or an empty one when there is none yet (`keys add` starts a file).
    public static func readOrEmpty(path: String) throws(Failure) -> KeysFile {
        guard FileManager.default.fileExists(atPath: path) else { return KeysFile() }
        return try read(path: path)
    }

    static func parse(_ data: Data, path: String) throws(Failure) -> KeysFile {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let document: Document
        do {
            document = try decoder.decode(Document.self, from: data)
        } catch {
            throw Failure("keys file \(path) is not valid: \(Self.describe(error))")
        }
        guard document.version == 1 else {
            throw Failure("keys file \(path) has version \(document.version); this gateway reads version 1")
        }
        var ids = Set<String>(), hashes = Set<String>()
        for record in document.keys {
            guard ids.insert(record.id).inserted else { throw Failure("keys file \(path): id \(record.id) twice") }
            guard ActiveKey.bytes(hex: record.sha256)?.count == 32 else {
                throw Failure("keys file \(path): key \(record.id) has no valid sha256 (64 hex digits)")
            }
            guard hashes.insert(record.sha256.lowercased()).inserted else {
                throw Failure("keys file \(path): key \(record.id) has the hash of another key")
            }
            guard APIKeyRecord.isValidTenant(record.tenant) else {
                throw Failure(
                    "keys file \(path): key \(record.id) has tenant '\(record.tenant)' (1-64 of A-Z a-z 0-9 . _ -)")
            }
            guard !record.scopes.isEmpty else { throw Failure("keys file \(path): key \(record.id) has no scopes") }
            if let limitError = Self.limitError(record.requestsPerSecond, record.maxConcurrentRuns) {
                throw Failure("keys file \(path): key \(record.id): \(limitError)")
            }
        }
        return KeysFile(keys: document.keys)
    }

    private static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context): return context.debugDescription
        case DecodingError.keyNotFound(let key, let context):
            return "missing '\(key.stringValue)' at \(path(context))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "\(context.debugDescription) at \(path(context))"
        default: return "\(error)"
        }
    }

    private static func path(_ context: DecodingError.Context) -> String {
        context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }

    /// Writes the file atomically with mode 0600: a new file beside it, synced, renamed over it.
    public func write(path: String) throws(Failure) {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let bytes: [UInt8]
        do {
            bytes = Array(try encoder.encode(Document(version: 1, keys: keys))) + [0x0a]
        } catch {
            throw Failure("cannot encode the keys: \(error)")
        }
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        // open's mode is masked by the umask, and an old leftover kept its own: set it outright.
        fchmod(fd, 0o600)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if result < 0 && errno == EINTR { continue }
            guard result > 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw Failure("cannot write \(temporary): \(reason)")
            }
            written += result
        }
        let synced = fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw Failure("cannot replace \(path): \(reason)")
        }
    }

    // MARK: changes

    /// Adds a key and returns it with the key itself, which is nowhere else: shown once.
    public mutating func add(
        name: String, scopes: Set<Scope>, tenant: String?, requestsPerSecond: Double? = nil,
        maxConcurrentRuns: Int? = nil, now: Date = Date()
    ) throws(Failure) -> (record: APIKeyRecord, key: String) {
        if let limitError = Self.limitError(requestsPerSecond, maxConcurrentRuns) { throw Failure(limitError) }
        guard APIKeyRecord.isValidName(name) else {
            throw Failure("a key's name is 1 to 64 characters, no control characters")
        }
        guard !keys.contains(where: { $0.name == name && !$0.revoked }) else {
            throw Failure("a key named '\(name)' exists; revoke it first or choose another name")
        }
        guard !scopes.isEmpty else { throw Failure("a key needs at least one scope (read, run, admin)") }
        if let tenant, !APIKeyRecord.isValidTenant(tenant) {
            throw Failure("tenant '\(tenant)' is not 1-64 of A-Z a-z 0-9 . _ -")
        }
        var id: String
        repeat { id = "key_" + Self.hex(Self.randomBytes(6)) } while keys.contains(where: { $0.id == id })
        let key = Self.newKey()
        let record = APIKeyRecord(
            id: id, name: name, sha256: SHA256.hex(Array(key.utf8)), scopes: scopes.sorted(), tenant: tenant ?? id,
            created: Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down)),
            requestsPerSecond: requestsPerSecond, maxConcurrentRuns: maxConcurrentRuns)
        keys.append(record)
        return (record, key)
    }

    /// Marks the key with that id, or else the one key in force with that name, revoked.
    public mutating func revoke(_ idOrName: String) throws(Failure) -> APIKeyRecord {
        let index: Int
        if let byID = keys.firstIndex(where: { $0.id == idOrName }) {
            index = byID
        } else {
            let named = keys.indices.filter { keys[$0].name == idOrName && !keys[$0].revoked }
            guard let only = named.first else { throw Failure("no key in force with id or name '\(idOrName)'") }
            guard named.count == 1 else { throw Failure("\(named.count) keys are named '\(idOrName)': give the id") }
            index = only
        }
        keys[index].revoked = true
        return keys[index]
    }

    static func limitError(_ requestsPerSecond: Double?, _ maxConcurrentRuns: Int?) -> String? {
        if let rate = requestsPerSecond, !(rate > 0 && rate.isFinite) {
            return "requests_per_second must be a positive number"
        }
        if let runs = maxConcurrentRuns, runs < 1 { return "max_concurrent_runs must be at least 1" }
        return nil
    }

    // MARK: keys

    /// `igw_` and 43 base64url characters: 256 bits from the system's generator (getrandom).
    static func newKey() -> String {
        "igw_"
            + Data(randomBytes(32)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
