import CEpoll
import Foundation
import Gateway
import HTTPServer
import JSONValue
import Logging

/// bench/sse's two halves (see bench/sse):
///   sse-bench serve N EVENTS RATE   the gateway's event hub on a free port: waits for N
///                                   subscribers, reports memory per idle subscriber, then
///                                   publishes EVENTS events at RATE per second.
///   sse-bench floor N EVENTS RATE   the floor peer: no HTTP parsing, no queues, one thread that
///                                   writes each event's bytes (the same framing as the gateway's)
///                                   to every socket in turn: what this machine's loopback TCP
///                                   allows any server, measured in the same run.
///   sse-bench load PORT N EVENTS    N subscribers on one epoll thread; prints the delay from
///                                   publish (the event's `t`, wall-clock ns) to receipt.
/// Both print their CPU time (user + system) per delivery: on a machine where server and load
/// generator share the cores, that is what bounds deliveries per second.
@main
enum SSEBench {
    static func main() async throws {
        let args = CommandLine.arguments.dropFirst().map { $0 }
        switch args.first {
        case "serve" where args.count == 4:
            try await serve(subscribers: Int(args[1])!, events: Int(args[2])!, rate: Double(args[3])!)
        case "floor" where args.count == 4:
            try floor(subscribers: Int(args[1])!, events: Int(args[2])!, rate: Double(args[3])!)
        case "load" where args.count == 4:
            try load(port: Int(args[1])!, subscribers: Int(args[2])!, events: Int(args[3])!)
        default:
            FileHandle.standardError.write(
                Data("usage: sse-bench serve|floor N EVENTS RATE | load PORT N EVENTS\n".utf8))
            exit(2)
        }
    }

    static func serve(subscribers: Int, events: Int, rate: Double) async throws {
        signal(SIGPIPE, SIG_IGN)
        var logger = Logger(label: "sse-bench")
        logger.logLevel = .error
        var configuration = GatewayConfiguration(
            server: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
            invokeAIURL: URL(string: "http://127.0.0.1:9")!)
        configuration.server.maxConnections = subscribers + 100
        configuration.events.maxSubscribers = subscribers + 100
        let gateway = try GatewayServer(configuration: configuration, logger: logger)
        try gateway.start()
        say("PORT \(gateway.port)")
        let before = residentBytes()
        while gateway.events.metrics.subscribers < subscribers { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .seconds(1))
        let perSubscriber = (residentBytes() - before) / subscribers
        say("IDLE_BYTES_PER_SUBSCRIBER \(perSubscriber)")
        let interval = 1.0 / rate
        let cpuBefore = cpuSeconds()
        let start = Date()
        for n in 0..<events {
            let due = start.addingTimeInterval(Double(n) * interval)
            let wait = due.timeIntervalSinceNow
            if wait > 0 { try await Task.sleep(for: .milliseconds(Int(wait * 1000))) }
            gateway.events.publish("node.progress", run: "bench", data: ["t": .int(wallNanoseconds()), "n": .int(n)])
        }
        try await Task.sleep(for: .seconds(3))
        say(String(format: "CPU_US_PER_DELIVERY %.2f", (cpuSeconds() - cpuBefore) * 1e6 / Double(subscribers * events)))
        await gateway.shutdown()
    }

    static func floor(subscribers: Int, events: Int, rate: Double) throws {
        signal(SIGPIPE, SIG_IGN)
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 4096) == 0
                    && getsockname(listener, $0, &length) == 0
            }
        }
        guard bound else { fatalError("floor: cannot listen: errno \(errno)") }
        say("PORT \(UInt16(bigEndian: address.sin_port))")
        let before = residentBytes()
        let head = Array(
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
                .utf8)
        var request = [UInt8](repeating: 0, count: 4096)
        var fds: [Int32] = []
        while fds.count < subscribers {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            _ = request.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) } // one small GET: not parsed
            _ = head.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            fds.append(fd)
        }
        Thread.sleep(forTimeInterval: 1)
        say("IDLE_BYTES_PER_SUBSCRIBER \((residentBytes() - before) / subscribers)")
        let cpuBefore = cpuSeconds()
        let start = Date()
        var dropped = 0
        for n in 0..<events {
            let wait = start.addingTimeInterval(Double(n) / rate).timeIntervalSinceNow
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
            let event = GatewayEvent(
                id: EventID(epoch: 1, sequence: UInt64(n)), type: "node.progress", runID: "bench", workflow: nil,
                time: Date(), data: ["t": .int(wallNanoseconds()), "n": .int(n)]
            ).encoded
            let chunk = Array((String(event.count, radix: 16) + "\r\n").utf8) + event + Array("\r\n".utf8)
            chunk.withUnsafeBytes { bytes in
                for fd in fds where send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) != bytes.count {
                    dropped += 1
                }
            }
        }
        Thread.sleep(forTimeInterval: 3)
        say(String(format: "CPU_US_PER_DELIVERY %.2f", (cpuSeconds() - cpuBefore) * 1e6 / Double(subscribers * events)))
        if dropped > 0 {
            FileHandle.standardError.write(Data("floor: \(dropped) writes did not fit a socket buffer\n".utf8))
        }
        for fd in fds { close(fd) }
        close(listener)
    }

    /// User + system CPU time of this process so far.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// One line to the driving script, unbuffered (it reads while this process runs on).
    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }

    static func wallNanoseconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now.tv_sec * 1_000_000_000 + now.tv_nsec
    }

    static func load(port: Int, subscribers: Int, events: Int) throws {
        let epoll = cepoll_create()
        var fds: [Int32] = []
        // Per-descriptor state in flat arrays (no dictionary, no allocation per read): the
        // generator must cost as little as possible, it shares the machine with the server.
        let tailCapacity = 32
        var tails = [UInt8](repeating: 0, count: 0)
        var tailLengths: [Int] = []
        var received: [Int] = []
        let request = Array("GET /v1/events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n".utf8)
        for _ in 0..<subscribers {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = UInt16(port).bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let ok = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard ok == 0 else {
                fatalError("connect: errno \(errno) after \(fds.count) subscribers (raise the fd limit)")
            }
            _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = cepoll_ctl(epoll, CEPOLL_CTL_ADD, fd, CEPOLL_IN, UInt64(fd))
            fds.append(fd)
            if Int(fd) >= received.count {
                received += [Int](repeating: 0, count: Int(fd) + 1 - received.count)
                tailLengths += [Int](repeating: 0, count: Int(fd) + 1 - tailLengths.count)
                tails += [UInt8](repeating: 0, count: (Int(fd) + 1) * tailCapacity - tails.count)
            }
        }
        var latencies: [Int] = []
        latencies.reserveCapacity(subscribers * events)
        var firstReceipt = 0, lastReceipt = 0
        var done = 0
        let readSize = 256 * 1024
        var buffer = [UInt8](repeating: 0, count: tailCapacity + readSize)
        var eventsBuffer = [cepoll_event](repeating: cepoll_event(), count: 1024)
        let deadline = Date().addingTimeInterval(Double(events) + 120)
        while done < subscribers, Date() < deadline {
            let count = eventsBuffer.withUnsafeMutableBufferPointer {
                cepoll_wait(epoll, $0.baseAddress, Int32($0.count), 1000)
            }
            guard count > 0 else { continue }
            for i in 0..<Int(count) {
                let fd = Int(eventsBuffer[i].token)
                while true {
                    // The few bytes kept from the previous read go first: a `"t":` marker or its
                    // number may have been cut by the read boundary.
                    let tailLength = tailLengths[fd]
                    for k in 0..<tailLength { buffer[k] = tails[fd * tailCapacity + k] }
                    let n = buffer.withUnsafeMutableBytes { recv(Int32(fd), $0.baseAddress! + tailLength, readSize, 0) }
                    if n <= 0 { break }
                    let now = wallNanoseconds()
                    let total = tailLength + n
                    var keepFrom = max(0, total - 24)
                    buffer.withUnsafeBufferPointer { b in
                        var index = 0
                        while index + 4 < total {
                            guard b[index] == 34, b[index + 1] == 116, b[index + 2] == 34, b[index + 3] == 58 else {
                                index += 1; continue
                            }
                            var j = index + 4
                            while j < total, b[j] == 32 { j += 1 }
                            var value = 0
                            while j < total, b[j] >= 48, b[j] <= 57 { value = value * 10 + Int(b[j] - 48); j += 1 }
                            if j == total { keepFrom = index; break } // the number may go on in the next read
                            latencies.append(now - value)
                            if firstReceipt == 0 { firstReceipt = now }
                            lastReceipt = now
                            received[fd] += 1
                            if received[fd] == events { done += 1 }
                            index = j
                            keepFrom = max(keepFrom, j)
                        }
                    }
                    let kept = min(total - keepFrom, tailCapacity)
                    for k in 0..<kept { tails[fd * tailCapacity + k] = buffer[total - kept + k] }
                    tailLengths[fd] = kept
                    // A short read took everything: epoll (level-triggered) reports the socket
                    // again when more arrives, so no second recv just to hear EAGAIN.
                    if n < readSize { break }
                }
            }
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double {
            guard !latencies.isEmpty else { return .nan }
            return Double(latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))]) / 1e6
        }
        let window = Double(lastReceipt - firstReceipt) / 1e9
        let rate = window > 0 ? Double(latencies.count) / window : 0
        print(
            String(
                format:
                    "DELIVERIES %d of %d p50_ms %.2f p99_ms %.2f max_ms %.2f per_second %.0f load_cpu_us_per_delivery %.2f",
                latencies.count, subscribers * events, percentile(0.5), percentile(0.99),
                Double(latencies.last ?? 0) / 1e6, rate, cpuSeconds() * 1e6 / Double(max(1, latencies.count))))
        for fd in fds { close(fd) }
    }
}
