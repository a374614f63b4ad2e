import Digests
import Foundation
import Logging
import Testing

@testable import Gateway

/// The keys file, its hashing and the key ring that reads it while the gateway serves.
@Suite struct KeysTests {
    @Test func constantTimeEqualityComparesEveryByte() {
        let a = SHA256.digest(Array("one".utf8))
        var b = a
        #expect(KeyRing.constantTimeEqual(a, b))
        b[31] ^= 1
        #expect(!KeyRing.constantTimeEqual(a, b))
        b = a
        b[0] ^= 0x80
        #expect(!KeyRing.constantTimeEqual(a, b))
        #expect(!KeyRing.constantTimeEqual(a, Array(a.prefix(16))))
    }

    @Test func aNewKeyIsRandomAndOnlyItsHashIsWritten() throws {
        let path = try Self.temporaryPath()
        var file = KeysFile()
        let (record, key) = try file.add(name: "ci", scopes: [.run, .read], tenant: nil)
        #expect(key.hasPrefix("igw_"))
        #expect(key.count == 4 + 43)
        #expect(key.dropFirst(4).allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(record.sha256 == SHA256.hex(Array(key.utf8)))
        #expect(record.scopes == [.read, .run])
        #expect(record.tenant == record.id)
        #expect(record.id.hasPrefix("key_"))
        let (_, other) = try file.add(name: "ci-2", scopes: [.read], tenant: "team")
        #expect(other != key)
        try file.write(path: path)

        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(!text.contains(key) && !text.contains(other))
        #expect(text.contains(record.sha256))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        #expect(try KeysFile.read(path: path) == file)
    }

    @Test func namesTenantsAndScopesAreChecked() throws {
        var file = KeysFile()
        _ = try file.add(name: "ci", scopes: [.read], tenant: nil)
        #expect(throws: KeysFile.Failure.self) { _ = try file.add(name: "ci", scopes: [.read], tenant: nil) }
        #expect(throws: KeysFile.Failure.self) { _ = try file.add(name: "x", scopes: [.read], tenant: "a:b") }
        #expect(throws: KeysFile.Failure.self) { _ = try file.add(name: "x", scopes: [], tenant: nil) }
        #expect(throws: KeysFile.Failure.self) { _ = try file.add(name: "", scopes: [.read], tenant: nil) }
        #expect(try Scope.parseList("read, run").get() == [.read, .run])
        #expect(throws: ScopeListError.self) { try Scope.parseList("read,write").get() }
        #expect(throws: ScopeListError.self) { try Scope.parseList("").get() }
    }

    @Test func revokingByIDOrUniqueName() throws {
        var file = KeysFile()
        let (first, _) = try file.add(name: "ci", scopes: [.read], tenant: nil)
        #expect(try file.revoke("ci").id == first.id)
        #expect(file.keys[0].revoked)
        // Revoked, its name is free again; a second one with it is revoked by name too.
        let (second, _) = try file.add(name: "ci", scopes: [.read], tenant: nil)
        #expect(try file.revoke("ci").id == second.id)
        #expect(throws: KeysFile.Failure.self) { _ = try file.revoke("ci") }
        #expect(throws: KeysFile.Failure.self) { _ = try file.revoke("nobody") }
        // By id, whatever its state.
        #expect(try file.revoke(first.id).id == first.id)
    }

    @Test func aFileThatIsNotValidIsRefusedWithTheReason() throws {
        let path = try Self.temporaryPath()
        try Data(#"{"version": 1, "keys": [{"id": "k"}]}"#.utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: KeysFile.Failure.self) { _ = try KeysFile.read(path: path) }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        do {
            _ = try KeysFile.read(path: path)
            Issue.record("read a file that is not JSON")
        } catch {
            #expect(error.message.contains(path))
        }
        #expect(throws: KeysFile.Failure.self) { _ = try KeysFile.read(path: path + ".missing") }
        #expect(try KeysFile.readOrEmpty(path: path + ".missing").keys.isEmpty)
    }

    @Test func theKeyRingFollowsTheFileAndKeepsTheLastGoodKeys() throws {
        let path = try Self.temporaryPath()
        var file = KeysFile()
        let (record, key) = try file.add(name: "a", scopes: [.read], tenant: nil)
        try file.write(path: path)
        let ring = try KeyRing(path: path, logger: Self.quietLogger, checkInterval: .zero)
        #expect(ring.authenticate(key)?.record.id == record.id)
        #expect(ring.authenticate(key + "x") == nil)
        #expect(ring.authenticate("") == nil)

        // Revoked in the file: refused on the next look, without a restart.
        _ = try file.revoke(record.id)
        let (newRecord, newKey) = try file.add(name: "b", scopes: [.run], tenant: nil)
        try file.write(path: path)
        #expect(ring.authenticate(key) == nil)
        #expect(ring.authenticate(newKey)?.record.id == newRecord.id)

        // A broken file keeps the keys read before.
        try Data("{".utf8).write(to: URL(fileURLWithPath: path))
        #expect(ring.authenticate(newKey)?.record.id == newRecord.id)
        ring.reload()
        #expect(ring.authenticate(newKey)?.record.id == newRecord.id)
        // A missing one too.
        try FileManager.default.removeItem(atPath: path)
        #expect(ring.authenticate(newKey)?.record.id == newRecord.id)
    }

    @Test func theKeyRingLooksAtTheFileAtMostOncePerInterval() throws {
        let path = try Self.temporaryPath()
        var file = KeysFile()
        let (record, key) = try file.add(name: "a", scopes: [.read], tenant: nil)
        try file.write(path: path)
        let ring = try KeyRing(path: path, logger: Self.quietLogger, checkInterval: .seconds(3600))
        _ = try file.revoke(record.id)
        try file.write(path: path)
        // Not looked at yet; SIGHUP's reload reads it at once.
        #expect(ring.authenticate(key) != nil)
        ring.reload()
        #expect(ring.authenticate(key) == nil)
    }

    @Test func aKeyRingDoesNotStartWithAFileItCannotRead() throws {
        let path = try Self.temporaryPath()
        #expect(throws: KeysFile.Failure.self) { _ = try KeyRing(path: path, logger: Self.quietLogger) }
    }

    @Test func originsCarryTheOwnerAndOldOnesBelongToTheAnonymousTenant() {
        #expect(RunTracker.origin(for: "blank-blur") == "invokeai-gateway:blank-blur")
        #expect(RunTracker.origin(for: "blank-blur", owner: "team-a") == "invokeai-gateway@team-a:blank-blur")
        #expect(RunOrigin(parsing: "invokeai-gateway:blank-blur") == RunOrigin(workflow: "blank-blur", owner: ""))
        #expect(
            RunOrigin(parsing: "invokeai-gateway@key_01ab.x:blank-blur")
                == RunOrigin(workflow: "blank-blur", owner: "key_01ab.x"))
        #expect(RunOrigin(parsing: nil) == nil)
        #expect(RunOrigin(parsing: "canvas") == nil)
        #expect(RunOrigin(parsing: "invokeai-gateway@:x") == nil)
        #expect(RunOrigin(parsing: "invokeai-gatewayx:y") == nil)
        #expect(RunTracker.workflow(fromOrigin: "invokeai-gateway@t:wf") == "wf")
    }

    /// The ring logs each broken file as an error: expected here, so not shown.
    static var quietLogger: Logger {
        var logger = Logger(label: "keys-test")
        logger.logLevel = .critical
        return logger
    }

    static func temporaryPath() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder.appendingPathComponent("keys.json").path
    }
}
