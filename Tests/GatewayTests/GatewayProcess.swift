import Foundation
import GatewayTestSupport
import Synchronization
import TestSupport

/// The built binary (`swift build --build-tests` makes it) run as a process, the way an operator
/// runs it: to its end (`run`), or as a server (`start`) whose log is collected as it comes.
/// The child gets none of this process's GATEWAY_* and INVOKEAI_* variables (the harness sets
/// some), only those a test gives.
final class GatewayProcess: Sendable {
    struct Output {
        var status: Int32
        var out: String
        var err: String
    }

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// `.build/debug/invokeai-gateway` with its symbolic link resolved (the real build folder).
    static var binary: String {
        GatewayHTTP.repositoryRoot.appendingPathComponent(".build/debug/invokeai-gateway").resolvingSymlinksInPath()
            .path
    }

    static func environment(_ extra: [String: String]) -> [String: String] {
        var environment = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("GATEWAY_") && !$0.key.hasPrefix("INVOKEAI_")
        }
        environment.merge(extra) { _, new in new }
        return environment
    }

    /// Runs the binary to its end.
    static func run(
        _ arguments: [String], environment extra: [String: String] = [:], executable: String = binary
    ) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment(extra)
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // A command that should end at once but serves instead is stopped (its test then fails).
        let watchdog = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 60, execute: watchdog)
        defer { watchdog.cancel() }
        // Both pipes drained together: a full one would block the child.
        let errData = Mutex(Data())
        let errRead = DispatchSemaphore(value: 0)
        Thread {
            errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() }
            errRead.signal()
        }.start()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        errRead.wait()
        process.waitUntilExit()
        return Output(
            status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
            err: String(decoding: errData.withLock { $0 }, as: UTF8.self))
    }

    /// The log so far: appended by the reader thread, read by the test.
    private final class LogText: Sendable { let text = Mutex("") }

    private let process: Process
    private let log = LogText()

    var logText: String { log.text.withLock { $0 } }
    var isRunning: Bool { process.isRunning }

    /// Starts `serve` in `directory`; `port` then waits for the port it says it listens on.
    init(
        _ arguments: [String], environment extra: [String: String] = [:], directory: String,
        executable: String = binary
    ) throws {
        process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = Self.environment(extra)
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let reader = err.fileHandleForReading
        Thread { [log] in
            // availableData: what has come (read(upToCount:) would wait for the whole count); empty at the end.
            while case let data = reader.availableData, !data.isEmpty {
                log.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }.start()
    }

    /// The port from the log line "invokeai-gateway on port N".
    func port() async throws -> Int {
        try await eventually(within: .seconds(30)) { Self.port(in: logText) != nil || !isRunning }
        guard let found = Self.port(in: logText) else {
            throw Failure(description: "the gateway exited before listening:\n\(logText)")
        }
        return found
    }

    private static func port(in log: String) -> Int? {
        guard let range = log.range(of: "invokeai-gateway on port ") else { return nil }
        return Int(log[range.upperBound...].prefix { $0.isNumber })
    }

    func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// SIGTERM, then waits for the end; the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}
