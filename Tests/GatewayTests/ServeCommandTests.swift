import Foundation
import GatewayTestSupport
import Testing

@testable import Gateway
@testable import TestSupport

/// The binary as a daemon: --version, usage errors (exit 64, naming the flag or variable), the
/// files it serves found without the working directory, SIGHUP. Runs the built binary.
@Suite("Serve command", .ownThread)
struct ServeCommandTests {
    static func temporaryFolder() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test(arguments: [["--version"], ["serve", "--version"]])
    func versionSaysTheVersionAndCommit(arguments: [String]) throws {
        let output = try GatewayProcess.run(arguments)
        #expect(output.status == 0, "\(output.err)")
        // A debug build is not stamped: scripts/release passes the commit.
        #expect(output.out == "invokeai-gateway \(BuildInfo.version) (unknown)\n")
    }

    @Test(arguments: [
        ("GATEWAY_PORT", "abc"), ("GATEWAY_PORT", "70000"), ("GATEWAY_PORT", "-1"), ("GATEWAY_MAX_WAIT", "x"),
        ("GATEWAY_MAX_WAIT", "-5"), ("GATEWAY_HEADER_TIMEOUT", "nan"), ("GATEWAY_HEADER_TIMEOUT", "1e300"),
        ("GATEWAY_IDLE_TIMEOUT", "0"), ("GATEWAY_MAX_BODY_BYTES", "0"), ("GATEWAY_MAX_RUNS", "1.5"),
        ("GATEWAY_EVENT_LOOPS", "-2"), ("GATEWAY_LOG_LEVEL", "loud"), ("GATEWAY_ALLOW_UNAUTHENTICATED", "yes"),
        ("INVOKEAI_URL", "https://invokeai.example"), ("GATEWAY_PUBLIC", "/nonexistent/Public"),
        ("GATEWAY_OPENAPI", "/nonexistent/openapi.json"),
    ])
    func aBadEnvironmentValueExits64NamingIt(variable: String, value: String) throws {
        // Port 0 unless the port is the bad value: a check that wrongly passes starts no server on 8080.
        let environment = ["GATEWAY_PORT": "0"].merging([variable: value]) { _, new in new }
        let output = try GatewayProcess.run(["serve"], environment: environment)
        #expect(output.status == 64, "\(output.err)")
        #expect(output.err.contains(variable), "\(output.err)")
        #expect(!output.err.contains("invokeai-gateway on port"))
    }

    @Test func everyBadValueIsNamedAtOnce() throws {
        let bad = [
            "GATEWAY_PORT": "abc", "GATEWAY_MAX_WAIT": "x", "GATEWAY_HEARTBEAT": "-1", "GATEWAY_LOG_LEVEL": "loud",
        ]
        let output = try GatewayProcess.run(["serve"], environment: bad)
        #expect(output.status == 64)
        for variable in bad.keys { #expect(output.err.contains(variable), "\(variable) not named in \(output.err)") }
    }

    @Test(arguments: [
        (["serve", "--port", "abc"], "--port"), (["serve", "--port", "-1"], "--port"),
        (["serve", "--no-such-flag"], "--no-such-flag"), (["serve", "--header-timeout", "1e300"], "--header-timeout"),
        (["serve", "--public", "/nonexistent/Public"], "--public"), (["--bogus"], "--bogus"),
    ])
    func aBadFlagExits64NamingIt(arguments: [String], flag: String) throws {
        let output = try GatewayProcess.run(arguments)
        #expect(output.status == 64, "\(output.err)")
        #expect(output.err.contains(flag), "\(output.err)")
    }

    /// Every variable `serve --help` names is in the example environment file, with the default the
    /// help shows; the file names no variable the gateway does not read.
    @Test func theExampleEnvironmentFileListsEveryVariableWithItsDefault() throws {
        let help = try GatewayProcess.run(["serve", "--help"])
        #expect(help.status == 0)
        // Help is wrapped to the terminal: joined into one line first.
        let text = help.out.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        let pattern = try Regex(#"\(env ([A-Z0-9_]+)[^)]*\)( \(default: ([^)]*)\))?"#)
        var documented: [String: String?] = [:]
        for match in text.matches(of: pattern) {
            // updateValue: assigning a nil default through the subscript would drop the name.
            documented.updateValue(
                match.output[3].substring.map(String.init), forKey: String(match.output[1].substring!))
        }
        #expect(documented.count >= 30, "\(help.out)")
        let example = try String(
            contentsOf: GatewayHTTP.repositoryRoot.appendingPathComponent("deploy/invokeai-gateway.env.example"),
            encoding: .utf8)
        var listed: [String: String] = [:]
        for line in example.split(separator: "\n") {
            let assignment = line.hasPrefix("#") ? line.dropFirst() : line[...]
            guard let equals = assignment.firstIndex(of: "="),
                assignment[..<equals].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
            else { continue }
            listed[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
        }
        for (variable, helpDefault) in documented {
            guard let value = listed[variable] else {
                Issue.record("\(variable) is not in deploy/invokeai-gateway.env.example")
                continue
            }
            guard let helpDefault else { continue }
            let same = value == helpDefault || (Double(value) != nil && Double(value) == Double(helpDefault))
            #expect(same, "\(variable): the example says \(value), the help's default is \(helpDefault)")
        }
        // The password itself is read from the environment only (never a flag).
        for variable in listed.keys where variable != "INVOKEAI_PASSWORD" {
            #expect(documented.keys.contains(variable), "the example lists \(variable), which serve does not read")
        }
    }

    /// A binary in `<prefix>/bin` started from another folder serves `<prefix>/share/invokeai-gateway`.
    @Test func anInstalledBinaryFindsItsFilesFromAnyFolder() async throws {
        let prefix = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: prefix) }
        let share = prefix + "/share/invokeai-gateway"
        try FileManager.default.createDirectory(atPath: share + "/Public", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: share + "/openapi", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: prefix + "/bin", withIntermediateDirectories: true)
        try "<p>installed page</p>".write(toFile: share + "/Public/index.html", atomically: true, encoding: .utf8)
        try #"{"openapi":"3.1.0","installed":true}"#.write(
            toFile: share + "/openapi/openapi.json", atomically: true, encoding: .utf8)
        // A hard link (its real path is inside the prefix, unlike a symbolic link's); a copy
        // when the temporary folder is on another file system.
        let installed = prefix + "/bin/invokeai-gateway"
        do { try FileManager.default.linkItem(atPath: GatewayProcess.binary, toPath: installed) } catch {
            try FileManager.default.copyItem(atPath: GatewayProcess.binary, toPath: installed)
        }
        let elsewhere = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let invokeAI = try RefusingPort()
        let gateway = try GatewayProcess(
            [
                "serve", "--port", "0", "--invokeai", "http://127.0.0.1:\(invokeAI.port)", "--state-dir",
                elsewhere + "/state",
            ],
            directory: elsewhere, executable: installed)
        let port = try await gateway.port()
        let page = try await TestHTTP.send("GET", URL(string: "http://127.0.0.1:\(port)/")!)
        #expect(page.status == 200)
        #expect(String(decoding: page.body, as: UTF8.self) == "<p>installed page</p>")
        let contract = try await TestHTTP.send("GET", URL(string: "http://127.0.0.1:\(port)/openapi.json")!)
        #expect(String(decoding: contract.body, as: UTF8.self).contains(#""installed":true"#))
        #expect(gateway.logText.contains("status page from \(share)/Public"), "\(gateway.logText)")
        #expect(gateway.logText.contains("install layout"))
        #expect(gateway.stop() == 0)
    }

    /// SIGHUP lists the workflows folder now and says what it holds; the process lives on, also
    /// after a broken file.
    @Test func sighupReadsTheWorkflowsFolderAndKeepsRunning() async throws {
        let folder = try Self.temporaryFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let workflows = folder + "/workflows"
        try FileManager.default.createDirectory(atPath: workflows, withIntermediateDirectories: true)
        let invokeAI = try RefusingPort()
        // The debug binary from a folder outside the repository: it finds the source tree it was built in.
        let gateway = try GatewayProcess(
            [
                "serve", "--port", "0", "--invokeai", "http://127.0.0.1:\(invokeAI.port)", "--workflows", workflows,
                "--state-dir", folder + "/state",
            ], directory: folder)
        let port = try await gateway.port()
        #expect(gateway.logText.contains("source tree the executable was built in"), "\(gateway.logText)")
        let list = URL(string: "http://127.0.0.1:\(port)/v1/workflows")!
        #expect(!String(decoding: try await TestHTTP.send("GET", list).body, as: UTF8.self).contains("sighup-added"))

        try FileManager.default.copyItem(
            atPath: GatewayHTTP.repositoryRoot.appendingPathComponent("workflows/blank-blur.json").path,
            toPath: workflows + "/sighup-added.json")
        gateway.signal(SIGHUP)
        try await eventually(within: .seconds(30)) {
            gateway.logText.contains("SIGHUP: workflows folder \(workflows) read: 1 workflow file(s)")
        }
        let listed = try await TestHTTP.send("GET", list)
        #expect(listed.status == 200)
        #expect(String(decoding: listed.body, as: UTF8.self).contains(#""name":"sighup-added""#))

        try "{ not json".write(toFile: workflows + "/broken.json", atomically: true, encoding: .utf8)
        gateway.signal(SIGHUP)
        try await eventually(within: .seconds(30)) {
            gateway.logText.components(separatedBy: "read: 1 workflow file(s)").count == 3
        }
        #expect(gateway.isRunning)
        let health = try await TestHTTP.send("GET", URL(string: "http://127.0.0.1:\(port)/healthz")!)
        #expect(health.status == 200)
        #expect(gateway.stop() == 0)
    }
}
