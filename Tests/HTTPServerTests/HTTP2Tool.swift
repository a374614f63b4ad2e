import Foundation
import TestSupport

/// Runs Debian's HTTP/2 clients (`curl`, `nghttp`) as subprocesses for the h2 loopback tests.
/// Every run is wrapped in `timeout`, so a server that hangs fails the test instead of hanging it.
enum HTTP2Tool {
    struct Output: Sendable {
        var status: Int32
        var stdout: Data
        var stderr: String
        var text: String { String(decoding: stdout, as: UTF8.self) }
    }

    static func run(_ arguments: [String], seconds: Int = 60) async throws -> Output {
        try await blocking {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/timeout")
            process.arguments = [String(seconds)] + arguments
            // stderr goes to a file so that neither pipe can fill up and stall the child.
            let errURL = FileManager.default.temporaryDirectory.appendingPathComponent("h2-err-\(UUID().uuidString)")
            _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
            defer { try? FileManager.default.removeItem(at: errURL) }
            let errHandle = try FileHandle(forWritingTo: errURL)
            let out = Pipe()
            process.standardOutput = out
            process.standardError = errHandle
            process.standardInput = FileHandle.nullDevice
            try process.run()
            let stdout = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            try errHandle.close()
            let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
            return Output(status: process.terminationStatus, stdout: stdout, stderr: stderr)
        }
    }

    static func curl(_ arguments: [String]) async throws -> Output {
        try await run(["curl", "-sS"] + arguments)
    }

    static func nghttp(_ arguments: [String]) async throws -> Output {
        try await run(["nghttp"] + arguments)
    }

    /// A temporary file holding `bytes`, removed by the caller.
    static func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("h2-\(UUID().uuidString)")
        try Data(bytes).write(to: url)
        return url
    }

    /// Reproducible pseudo-random bytes (a body that compresses badly and shows misordering).
    static func pattern(count: Int, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) -> [UInt8] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
    }
}
