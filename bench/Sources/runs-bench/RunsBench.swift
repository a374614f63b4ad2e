import Foundation
import Gateway
import HTTPServer
import InvokeAI
import JSONValue
import Logging

/// bench/runs' server half (see bench/runs):
///   runs-bench serve RUNS    the gateway on a free port with RUNS ended runs in its runs window
///                            (--max-runs RUNS), registered through the tracker as submissions
///                            are; prints "PORT n" once they are in, then serves until killed.
/// No InvokeAI: the runs list and /healthz need none.
@main
enum RunsBench {
    static func main() async throws {
        let args = CommandLine.arguments.dropFirst().map { $0 }
        guard args.count == 2, args[0] == "serve", let count = Int(args[1]), count > 0 else {
            FileHandle.standardError.write(Data("usage: runs-bench serve RUNS\n".utf8))
            exit(2)
        }
        signal(SIGPIPE, SIG_IGN)
        var logger = Logger(label: "runs-bench")
        logger.logLevel = .error
        var configuration = GatewayConfiguration(
            server: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
            invokeAIURL: URL(string: "http://127.0.0.1:9")!, followsUpstreamEvents: false)
        configuration.runs = RunTrackerConfiguration(maxRuns: count, maxAge: 365 * 24 * 3600)
        let gateway = try GatewayServer(configuration: configuration, logger: logger)
        try gateway.start()
        let start = ContinuousClock.now, registerCPU = cpuSeconds()
        let firstCreated = Date().addingTimeInterval(-Double(count))
        for n in 0..<count {
            gateway.runs.register(syntheticRun(n, createdAt: firstCreated.addingTimeInterval(Double(n))))
        }
        say(
            String(
                format: "RUNS %d registered in %.1f s (CPU %.1f us each)", gateway.runs.count,
                Double((ContinuousClock.now - start).components.seconds),
                (cpuSeconds() - registerCPU) * 1e6 / Double(count)))
        // In process, without HTTP, in CPU time (the machine may be shared): what one page costs
        // the tracker (each run's JSON kept after the first page), and one upkeep beat.
        let pages = 2000
        let pageCPU = cpuSeconds()
        for _ in 0..<pages { _ = gateway.runs.runsPageJSON(limit: 50) }
        let upkeepCPU = cpuSeconds()
        gateway.runs.evictExpired()
        gateway.runs.expireOutputs()
        let end = cpuSeconds()
        say(
            String(
                format: "CPU %.1f us per page of 50, %.1f us per upkeep beat (in process)",
                (upkeepCPU - pageCPU) * 1e6 / Double(pages), (end - upkeepCPU) * 1e6))
        say("PORT \(gateway.port)")
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// An ended run shaped like a real one: two items, an output node with two images, and one
    /// in ten failed with InvokeAI's error.
    static func syntheticRun(_ n: Int, createdAt: Date) -> Run {
        let workflows = ["sdxl-text-to-image", "flux-text-to-image", "upscale", "blur"]
        var run = Run(
            id: UUID().uuidString.lowercased(), workflow: workflows[n % workflows.count],
            itemIDs: [2 * n + 1, 2 * n + 2], createdAt: createdAt)
        let failed = n % 10 == 9
        for item in run.itemIDs { run.itemStatuses[item] = failed ? .failed : .completed }
        run.status = failed ? .failed : .completed
        run.startedAt = createdAt.addingTimeInterval(0.25)
        run.completedAt = createdAt.addingTimeInterval(7.5)
        if failed {
            run.error = ["type": "OutOfMemoryError", "message": "CUDA out of memory", "node": "denoise"]
        } else {
            run.outputs = [
                [
                    "node": "save_image", "label": "Image",
                    "images": .array(
                        (0..<2).map { i in
                            [
                                "name": .string("\(run.id.prefix(8))-\(i).png"), "width": 1024, "height": 1024,
                                "board_id": .null, "created_by_run": true,
                            ]
                        }),
                ]
            ]
        }
        return run
    }

    /// User and system time of this process.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
            + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
