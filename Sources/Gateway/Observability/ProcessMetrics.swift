import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The standard `process_*` families, read from /proc at each scrape (Linux only: elsewhere
/// the families are left out).
enum ProcessMetrics {
    struct Sample: Equatable {
        var cpuSeconds: Double
        var residentBytes: Int
        var startTimeSeconds: Double
        var openFDs: Int
        var maxFDs: Int?
    }

    static var prometheusText: String {
        guard let sample = read() else { return "" }
        var text = """
            # HELP process_cpu_seconds_total User and system CPU time spent, in seconds.
            # TYPE process_cpu_seconds_total counter
            process_cpu_seconds_total \(sample.cpuSeconds)
            # HELP process_resident_memory_bytes Resident memory size in bytes.
            # TYPE process_resident_memory_bytes gauge
            process_resident_memory_bytes \(sample.residentBytes)
            # HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.
            # TYPE process_start_time_seconds gauge
            process_start_time_seconds \(sample.startTimeSeconds)
            # HELP process_open_fds Open file descriptors.
            # TYPE process_open_fds gauge
            process_open_fds \(sample.openFDs)

            """
        if let maxFDs = sample.maxFDs {
            text += """
                # HELP process_max_fds The limit on open file descriptors.
                # TYPE process_max_fds gauge
                process_max_fds \(maxFDs)

                """
        }
        return text
    }

    static func read() -> Sample? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            let system = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let bootLine = system.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
            let bootTime = Double(bootLine.dropFirst(6).trimmingCharacters(in: .whitespaces))
        else { return nil }
        guard
            var sample = parse(
                stat: stat, bootTime: bootTime, ticksPerSecond: Double(sysconf(Int32(_SC_CLK_TCK))),
                pageSize: Int(sysconf(Int32(_SC_PAGESIZE))))
        else { return nil }
        sample.openFDs = max(
            0, ((try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd"))?.count ?? 1) - 1)
        // "Max open files   1024   1048576   files": the soft limit ("unlimited" says none).
        if let limits = try? String(contentsOfFile: "/proc/self/limits", encoding: .utf8),
            let line = limits.split(separator: "\n").first(where: { $0.hasPrefix("Max open files") })
        {
            sample.maxFDs = line.dropFirst("Max open files".count).split(separator: " ").first.flatMap { Int($0) }
        }
        return sample
    }

    /// `/proc/self/stat`: the fields after the command's closing parenthesis (it may hold spaces).
    static func parse(stat: String, bootTime: Double, ticksPerSecond: Double, pageSize: Int) -> Sample? {
        guard let close = stat.lastIndex(of: ")") else { return nil }
        // fields[0] is field 3 (state); utime 14, stime 15, starttime 22, rss 24.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 21, let user = Double(fields[11]), let system = Double(fields[12]),
            let start = Double(fields[19]), let rss = Int(fields[21]), ticksPerSecond > 0
        else { return nil }
        return Sample(
            cpuSeconds: (user + system) / ticksPerSecond, residentBytes: rss * pageSize,
            startTimeSeconds: bootTime + start / ticksPerSecond, openFDs: 0, maxFDs: nil)
    }
}
