import HTTPCore
import Testing

@Suite struct MonotonicClockTests {
    @Test func neverGoesBackAndSecondsMatchNanoseconds() {
        let a = MonotonicClock.now()
        let seconds = MonotonicClock.seconds()
        let b = MonotonicClock.now()
        #expect(a <= b)
        #expect(Double(a) / 1e9 <= seconds && seconds <= Double(b) / 1e9)
    }

    @Test func durationsInNanoseconds() {
        #expect(MonotonicClock.nanoseconds(.seconds(2)) == 2_000_000_000)
        #expect(MonotonicClock.nanoseconds(.milliseconds(1500)) == 1_500_000_000)
        #expect(MonotonicClock.nanoseconds(.nanoseconds(7)) == 7)
        #expect(MonotonicClock.nanoseconds(.seconds(-3)) == 0)
    }

    @Test func deadlines() {
        let later = Deadline.after(60)
        #expect(!later.hasPassed)
        #expect(later.seconds == 60)
        #expect(later.remaining > 59 && later.remaining <= 60)
        #expect(later.pollTimeout > 59_000 && later.pollTimeout <= 60_000)
        let past = Deadline(instant: MonotonicClock.seconds() - 1, seconds: 1)
        #expect(past.hasPassed)
        #expect(past.remaining == 0)
        #expect(past.pollTimeout == 0)
        #expect(past < later)
        #expect(Deadline.after(-5).remaining <= 0.001)
    }

    @Test func pollTimeoutRoundsUpAndIsBounded() {
        #expect(Deadline.pollTimeout(seconds: 0.0001) == 1)
        #expect(Deadline.pollTimeout(seconds: 0) == 0)
        #expect(Deadline.pollTimeout(seconds: -2) == 0)
        #expect(Deadline.pollTimeout(seconds: 1e12) == Int32.max)
    }
}
