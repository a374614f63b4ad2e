import Digests
import Foundation
import GatewayTestSupport
import Testing

@testable import Gateway

/// The command line of the built binary (`swift build` makes it before the tests run).
@Suite struct KeysCommandTests {
    struct Output {
        var status: Int32
        var out: String
        var err: String
    }

    static func run(_ arguments: [String]) throws -> Output {
        let process = Process()
        process.executableURL = GatewayHTTP.repositoryRoot.appendingPathComponent(".build/debug/invokeai-gateway")
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["GATEWAY_KEYS_FILE"] = nil
        environment["GATEWAY_HOST"] = nil
        process.environment = environment
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData, as: UTF8.self))
    }

    @Test func addListAndRevoke() throws {
        let path = try KeysTests.temporaryPath()
        let added = try Self.run(["keys", "add", "--keys-file", path, "--name", "ci", "--scopes", "read,run"])
        #expect(added.status == 0, "\(added.err)")
        let key = try #require(
            added.out.split(separator: "\n").first { $0.hasPrefix("key:") }?.split(separator: " ").last.map(String.init)
        )
        #expect(key.hasPrefix("igw_") && key.count == 47)
        let file = try KeysFile.read(path: path)
        #expect(file.keys.count == 1)
        #expect(file.keys[0].sha256 == SHA256.hex(Array(key.utf8)))
        #expect(file.keys[0].scopes == [.read, .run])
        #expect(added.out.contains("tenant:  \(file.keys[0].id)"))
        let mode = try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int
        #expect(mode == 0o600)

        let listed = try Self.run(["keys", "list", "--keys-file", path])
        #expect(listed.status == 0)
        #expect(listed.out.contains(file.keys[0].id) && listed.out.contains("ci") && listed.out.contains("active"))
        #expect(!listed.out.contains(key) && !listed.out.contains(file.keys[0].sha256))

        let revoked = try Self.run(["keys", "revoke", "--keys-file", path, "ci"])
        #expect(revoked.status == 0)
        #expect(try KeysFile.read(path: path).keys[0].revoked)
        #expect(try Self.run(["keys", "list", "--keys-file", path]).out.contains("revoked"))
        // Nothing left in force by that name.
        #expect(try Self.run(["keys", "revoke", "--keys-file", path, "ci"]).status != 0)
    }

    @Test func badScopesAndTenantsAreRefused() throws {
        let path = try KeysTests.temporaryPath()
        let badScope = try Self.run(["keys", "add", "--keys-file", path, "--name", "x", "--scopes", "write"])
        #expect(badScope.status != 0)
        #expect(badScope.err.contains("unknown scope 'write'"))
        let badTenant = try Self.run([
            "keys", "add", "--keys-file", path, "--name", "x", "--scopes", "read", "--tenant", "a b",
        ])
        #expect(badTenant.status != 0)
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func serveRefusesAnOpenAddressWithoutKeys() throws {
        let refused = try Self.run(["serve", "--host", "0.0.0.0", "--port", "0"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("refusing to serve on 0.0.0.0 without keys"))
        #expect(refused.err.contains("--allow-unauthenticated"))
        // A keys file that cannot be read stops the start too.
        let missing = try Self.run([
            "serve", "--host", "0.0.0.0", "--port", "0", "--keys-file", "/nonexistent/keys.json",
        ])
        #expect(missing.status != 0)
        #expect(missing.err.contains("/nonexistent/keys.json"))
    }

    @Test func loopbackAddressesNeedNoKeys() {
        #expect(ServeAddress.isLoopback("127.0.0.1"))
        #expect(ServeAddress.isLoopback("127.1.2.3"))
        #expect(ServeAddress.isLoopback("::1"))
        #expect(ServeAddress.isLoopback("[::1]"))
        #expect(ServeAddress.isLoopback("localhost"))
        #expect(!ServeAddress.isLoopback("0.0.0.0"))
        #expect(!ServeAddress.isLoopback("::"))
        #expect(!ServeAddress.isLoopback("192.168.1.2"))
        #expect(!ServeAddress.isLoopback("127.0.0.1.example"))
    }
}
