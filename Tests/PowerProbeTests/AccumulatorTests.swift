import Testing

@testable import PowerProbe

/// Wraparound and integration on hand-computed values.
@Suite struct AccumulatorTests {
    let range: UInt64 = 65_532_610_987  // AMD

    @Test func deltaWithoutWrapIsTheDifference() {
        #expect(CounterAccumulator.delta(from: 100, to: 250, range: range) == (150, false))
    }

    @Test func equalReadingsAreZeroEnergyNotAWrap() {
        #expect(CounterAccumulator.delta(from: 777, to: 777, range: range) == (0, false))
    }

    @Test func wrapUsesTheZonesOwnRange() {
        // 100 µJ before the top, then 50 µJ after zero: 150 µJ.
        #expect(CounterAccumulator.delta(from: range - 100, to: 50, range: range) == (150, true))
        // Wrapping to exactly zero.
        #expect(CounterAccumulator.delta(from: range - 1, to: 0, range: range) == (1, true))
        // Near UInt64.max the arithmetic must not overflow.
        #expect(CounterAccumulator.delta(from: UInt64.max - 5, to: 4, range: UInt64.max) == (9, true))
    }

    @Test func firstReadingIsTheBaseline() {
        var counter = CounterAccumulator(rangeMicrojoules: range, wrapSafeNanoseconds: nil)
        counter.observe(123_456_789, atNanoseconds: 0)
        #expect(counter.totalMicrojoules == 0)
        #expect(counter.wraps == 0)
    }

    @Test func multipleWrapsAccumulate() {
        let small: UInt64 = 1_000
        var counter = CounterAccumulator(rangeMicrojoules: small, wrapSafeNanoseconds: nil)
        // 600 µJ per step: 900 → 500 (wrap) → 100 (wrap) → 700 → 300 (wrap).
        for (step, raw) in [900, 500, 100, 700, 300].enumerated() {
            counter.observe(UInt64(raw), atNanoseconds: UInt64(step) * 1_000_000)
        }
        #expect(counter.totalMicrojoules == 2_400)
        #expect(counter.wraps == 3)
        #expect(counter.untrustedIntervals == 0)
    }

    @Test func gapLongerThanWrapSafeTimeIsFlagged() {
        var counter = CounterAccumulator(rangeMicrojoules: range, wrapSafeNanoseconds: 1_000_000_000)
        counter.observe(0, atNanoseconds: 0)
        counter.observe(10, atNanoseconds: 900_000_000)
        #expect(counter.untrustedIntervals == 0)
        counter.observe(20, atNanoseconds: 2_000_000_000)
        #expect(counter.untrustedIntervals == 1)
        #expect(counter.totalMicrojoules == 20)
    }

    @Test func sixtyFourBitCounterGoingBackwardsIsAResetAndFlagged() {
        var counter = CounterAccumulator(rangeMicrojoules: nil, wrapSafeNanoseconds: nil)
        counter.observe(5_000, atNanoseconds: 0)
        counter.observe(6_000, atNanoseconds: 1)
        counter.observe(300, atNanoseconds: 2)
        #expect(counter.totalMicrojoules == 1_300)
        #expect(counter.untrustedIntervals == 1)
        #expect(counter.wraps == 0)
    }

    @Test func aJumpAboveTheCeilingPowerIsLeftOutAndFlaggedNotCountedAsAWrap() {
        // A counter restarted from zero 10 ms after reading 5 J: as a wrap it would be
        // range - 5 J + 2 mJ ≈ 65.5 kJ in 10 ms (6.5 MW). With a 1000 W ceiling it is a glitch.
        // (A restart from near the top of the range looks like a small wrap and cannot be told apart; it is harmless.)
        var counter = CounterAccumulator(rangeMicrojoules: range, wrapSafeNanoseconds: nil, ceilingMicrowatts: 1e9)
        counter.observe(5_000_000, atNanoseconds: 0)
        counter.observe(2_000, atNanoseconds: 10_000_000)
        #expect(counter.totalMicrojoules == 0)
        #expect(counter.wraps == 0)
        #expect(counter.untrustedIntervals == 1 && counter.implausibleIntervals == 1)
        // A genuine wrap at 300 W over 10 ms (3 J) is counted.
        counter.observe(2_000 + 3_000_000, atNanoseconds: 20_000_000)
        #expect(counter.totalMicrojoules == 3_000_000)
        counter.observe(1_500_000, atNanoseconds: 30_000_000)  // backwards again: a 'wrap' of ~65.5 kJ in 10 ms
        #expect(counter.implausibleIntervals == 2)
        var wrapping = CounterAccumulator(
            rangeMicrojoules: 10_000_000, wrapSafeNanoseconds: nil, ceilingMicrowatts: 1e9)
        wrapping.observe(9_000_000, atNanoseconds: 0)
        wrapping.observe(2_000_000, atNanoseconds: 10_000_000)  // 3 J in 10 ms = 300 W, through a wrap
        #expect(wrapping.totalMicrojoules == 3_000_000 && wrapping.wraps == 1 && wrapping.untrustedIntervals == 0)
    }

    /// Readings every 30 ms of a counter at `watts` with a 120 J range (wrap-safe 120 ms at 1000 W),
    /// frozen from 1 s for `frozenSeconds` (the counter then shows the true total again): the
    /// simulated AMD tree of issue 11, whose counters stopped and resumed.
    func frozen(
        watts: Double, frozenSeconds: Double, range: UInt64 = 120_000_000, wrapSafe: UInt64 = 120_000_000,
        stale: UInt64 = 120_000_000, totalSeconds: Double = 4
    ) -> (CounterAccumulator, trueJoules: Double) {
        var counter = CounterAccumulator(
            rangeMicrojoules: range, wrapSafeNanoseconds: wrapSafe, ceilingMicrowatts: 1e9,
            staleNanoseconds: stale)
        let step: UInt64 = 30_000_000
        var time: UInt64 = 0
        var frozenValue: UInt64?
        while Double(time) / 1e9 <= totalSeconds {
            let seconds = Double(time) / 1e9
            let truth = UInt64((watts * seconds * 1e6).rounded()) % range
            let isFrozen = seconds > 1 && seconds < 1 + frozenSeconds
            if isFrozen && frozenValue == nil { frozenValue = UInt64((watts * 1e6).rounded()) % range }
            counter.observe(isFrozen ? frozenValue! : truth, atNanoseconds: time)
            time += step
        }
        return (counter, watts * Double(time - step) / 1e9)
    }

    @Test func aStandstillThatResumesByExactlyOneRangeIsUntrustedNotZero() {
        // 60 W for 2 s frozen: the counter gained exactly one range (120 J) and reads what it read before.
        let (counter, truth) = frozen(watts: 60, frozenSeconds: 2)
        #expect(counter.untrustedIntervals == 1)
        let span = counter.spans.first { $0.kind == .stalledHidingWraps }
        #expect(span != nil, "\(counter.spans)")
        // From the last move before the freeze (1 s, on the 30 ms grid) to the first move after it.
        #expect(abs(Double(span?.startNanoseconds ?? 0) / 1e9 - 0.99) < 0.031)
        #expect(abs(Double(span?.endNanoseconds ?? 0) / 1e9 - 3.03) < 0.031)
        // What the counter shows lacks exactly the hidden range; the total is flagged, never silently summed.
        #expect(abs(Double(counter.totalMicrojoules) / 1e6 - (truth - 120)) < 0.01)
    }

    @Test func aStandstillThatResumesByOneAndAHalfRangesIsUntrusted() {
        // 60 W for 3 s frozen: 180 J = 1.5 ranges; the jump shows 60 J over 3 s (a plausible 20 W).
        let (counter, truth) = frozen(watts: 60, frozenSeconds: 3, totalSeconds: 5)
        #expect(counter.untrustedIntervals == 1)
        #expect(counter.spans.map(\.kind) == [.stalledHidingWraps])
        #expect(
            counter.implausibleIntervals == 0, "the jump is measured against the whole standstill, not the last 30 ms")
        #expect(abs(Double(counter.totalMicrojoules) / 1e6 - (truth - 120)) < 0.01)
    }

    @Test func aStandstillShorterThanTheWrapSafeTimeKeepsItsEnergyAndIsOnlyMarkedStalled() {
        // AMD's 65.5 kJ range is wrap-safe for 65 s at 1000 W; a 2 s freeze at 90 W catches up exactly.
        let (counter, truth) = frozen(
            watts: 90, frozenSeconds: 2, range: range, wrapSafe: 65_000_000_000, stale: 1_000_000_000)
        #expect(counter.untrustedIntervals == 0)
        #expect(counter.spans.map(\.kind) == [.stalled])
        #expect(counter.spans.allSatisfy { !$0.isUntrusted })
        #expect(abs(Double(counter.totalMicrojoules) / 1e6 - truth) < 0.01)
    }

    @Test func aSamplingGapWhileTheCounterAdvancesIsUntrusted() {
        var counter = CounterAccumulator(
            rangeMicrojoules: 120_000_000, wrapSafeNanoseconds: 120_000_000, ceilingMicrowatts: 1e9,
            staleNanoseconds: 120_000_000)
        counter.observe(0, atNanoseconds: 0)
        counter.observe(2_700_000, atNanoseconds: 30_000_000)
        // The sampler was stopped for half a second (SIGSTOP, a suspended VM): 45 J at 90 W.
        counter.observe(2_700_000 + 45_000_000, atNanoseconds: 530_000_000)
        #expect(
            counter.spans == [
                CounterSpan(kind: .samplingGap, startNanoseconds: 30_000_000, endNanoseconds: 530_000_000)
            ])
        #expect(counter.untrustedIntervals == 1)
    }

    @Test func powerIsIntegratedWithTheTrapezoidRule() {
        var power = PowerAccumulator()
        power.observe(10_000_000, atNanoseconds: 0)  // 10 W
        power.observe(20_000_000, atNanoseconds: 500_000_000)  // 20 W after 0.5 s: 7.5 J
        power.observe(20_000_000, atNanoseconds: 1_500_000_000)  // 20 W for 1 s: 20 J
        #expect(abs(power.totalMicrojoules - 27_500_000) < 1e-6)
    }

    @Test func medianOfOddAndEvenSamples() {
        #expect(median([3, 1, 2]) == 2)
        #expect(median([4, 1, 3, 2]) == 2.5)
        #expect(median([7]) == 7)
    }
}
