import Testing

@testable import Gateway

@Suite struct ProcessMetricsTests {
    @Test func statFieldsAfterTheCommandName() throws {
        // A command name with a space and a parenthesis: the fields start after the last ')'.
        let stat =
            "1234 (my (odd) cmd) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 150 0 0 20 0 9 0 3000 123456789 2048 18446744073709551615"
        let sample = try #require(
            ProcessMetrics.parse(stat: stat, bootTime: 1_700_000_000, ticksPerSecond: 100, pageSize: 4096))
        #expect(sample.cpuSeconds == 4.0)
        #expect(sample.residentBytes == 2048 * 4096)
        #expect(sample.startTimeSeconds == 1_700_000_030)
        #expect(ProcessMetrics.parse(stat: "garbage", bootTime: 0, ticksPerSecond: 100, pageSize: 4096) == nil)
    }

    @Test func thisProcessIsRead() throws {
        let sample = try #require(ProcessMetrics.read())
        #expect(sample.residentBytes > 0)
        #expect(sample.openFDs > 0)
        #expect(ProcessMetrics.prometheusText.contains("# TYPE process_cpu_seconds_total counter\n"))
    }
}
