import Foundation
import ProbeTestSupport
import Testing

@testable import PowerProbe

/// Named tolerances: measured energy against the known true value.
enum Tolerance {
    /// Counters that run at a known power, read through the meter.
    static let knownPower = 0.01
}

func relativeError(_ measured: Double, _ truth: Double) -> Double { abs(measured - truth) / truth }

/// The meter over counters that run at a known power, so the integrated energy has a known true value.
@Suite(.serialized) struct MeterTests {
    /// A two-socket-like tree: package-0 at 30 W wrapping every 100 ms (range 3 J), its dram at 5 W
    /// (large range, never wraps), its core at 20 W (informational, inside the package).
    func serverTree() -> FakeSysfs {
        let sysfs = FakeSysfs()
        let zones: [(String, String, Double, UInt64)] = [
            ("intel-rapl:0", "package-0", 30, 3_000_000),
            ("intel-rapl:0:0", "dram", 5, 65_712_999_613),
            ("intel-rapl:0:1", "core", 20, 3_000_000),
        ]
        for (id, name, watts, range) in zones {
            sysfs.set("/pc/\(id)/name", text: name + "\n")
            sysfs.set("/pc/\(id)/max_energy_range_uj", text: "\(range)\n")
            sysfs.set(
                "/pc/\(id)/energy_uj",
                .counter(ClockCounter(watts: watts, rangeMicrojoules: range, startMicrojoules: range / 2)))
        }
        return sysfs
    }

    @Test func knownPowerIsMeasuredWithinOnePercentAcrossWraps() throws {
        let sysfs = serverTree()
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/pc", sysfs: sysfs))
        let plan = try #require(try inventory.plan(for: .auto))
        #expect(plan.basis == "rapl:package+dram")
        // A 60 W ceiling makes the 3 J range wrap-safe for 50 ms, so the sampler runs every 12.5 ms.
        let meter = try EnergyMeter(
            plan: plan, configuration: MeterConfiguration(intervalSeconds: 0.1, ceilingWatts: 60))
        #expect(abs(meter.intervalSeconds - 0.0125) < 1e-9)
        let (window, sampled) = sampledWindow(meter, seconds: 1.0)
        let statistics = try #require(sampled)

        let basis = try #require(window.basisJoules)
        #expect(
            relativeError(basis, 35 * window.durationSeconds) < Tolerance.knownPower,
            "basis \(basis) J over \(window.durationSeconds) s, expected 35 W")
        let package = try #require(window.channels.first { $0.channel.name == "package-0" })
        let dram = try #require(window.channels.first { $0.channel.name == "dram" })
        let core = try #require(window.channels.first { $0.channel.name == "core" })
        #expect(relativeError(try #require(package.energyJoules), 30 * window.durationSeconds) < Tolerance.knownPower)
        #expect(relativeError(try #require(dram.energyJoules), 5 * window.durationSeconds) < Tolerance.knownPower)
        #expect(relativeError(try #require(core.energyJoules), 20 * window.durationSeconds) < Tolerance.knownPower)
        // The package wrapped about ten times, the DRAM zone never: each zone wraps on its own.
        #expect((9...11).contains(package.wraps), "package wrapped \(package.wraps) times")
        #expect(dram.wraps == 0)
        #expect(!core.channel.inBasis, "core is inside the package: never summed")
        #expect(package.untrustedIntervals == 0 && !package.stale && window.warnings.isEmpty, "\(window.warnings)")
        #expect(package.startRaw != nil && package.endRaw != nil)
        // Peak over sampling intervals is close to the constant power.
        #expect(relativeError(try #require(window.peakWatts), 35) < 0.05)
        #expect(statistics.samples >= 40)
    }

    @Test func aCounterAdvancedByATestThreadIsIntegratedWithinOnePercent() throws {
        let sysfs = FakeSysfs()
        let value = SharedValue(0)
        let range: UInt64 = 2_000_000  // 2 J: wraps every 50 ms at 40 W
        sysfs.set("/pc/intel-rapl:0/name", text: "package-0\n")
        sysfs.set("/pc/intel-rapl:0/max_energy_range_uj", text: "\(range)\n")
        sysfs.set("/pc/intel-rapl:0/energy_uj", .shared(value))
        let watts = 40.0
        let stop = SharedValue(0)
        let start = MonotonicClock.nanoseconds()
        // The longest pause between two of the writer's steps, in ns: on a loaded machine the thread is
        // descheduled, the counter lags the clock by that much, and the window's edges can read stale values.
        let longestGap = SharedValue(0)
        let writer = Thread {
            // Advance the counter in 1 ms steps at a known power, as firmware updates RAPL every ~1 ms.
            var last = MonotonicClock.nanoseconds()
            while stop.value == 0 {
                let now = MonotonicClock.nanoseconds()
                if now - last > longestGap.value { longestGap.set(now - last) }
                last = now
                let joules = watts * Double(now - start) / 1e9
                value.set(UInt64((joules * 1e6).truncatingRemainder(dividingBy: Double(range))))
                usleep(1000)
            }
        }
        writer.start()
        defer { stop.set(1) }
        usleep(5000)
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/pc", sysfs: sysfs))
        let meter = try EnergyMeter(
            plan: try #require(try inventory.plan(for: .sources([.rapl]))),
            configuration: MeterConfiguration(intervalSeconds: 0.1, ceilingWatts: 100))
        let (window, _) = sampledWindow(meter, seconds: 0.8)
        let joules = try #require(window.basisJoules)
        // The counter moves in steps of the writer's longest gap (1 ms when the machine is quiet), so the
        // two window edges can each be one step off.
        let gap = max(0.001, Double(longestGap.value) / 1e9)
        let stepError = 2 * watts * gap
        #expect(
            abs(joules - watts * window.durationSeconds) <= stepError + Tolerance.knownPower * joules,
            "measured \(joules) J, expected \(watts * window.durationSeconds) J; the writer's longest gap was \(gap * 1000) ms"
        )
        #expect(window.channels[0].wraps >= 14)
    }

    @Test func aCounterThatNeverMovesIsReportedStale() throws {
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: Fixtures.path("powercap/amd-zen")))
        // The stale threshold is the larger of staleAfterSeconds and ten sampling intervals: 0.2 s here.
        var configuration = MeterConfiguration(intervalSeconds: 0.02)
        configuration.staleAfterSeconds = 0.2
        let meter = try EnergyMeter(plan: try #require(try inventory.plan(for: .auto)), configuration: configuration)
        let (window, _) = sampledWindow(meter, seconds: 0.3)
        #expect(window.channels.allSatisfy { $0.stale && $0.spans.map(\.kind) == [.staleAtEnd] })
        let warned = window.warnings.contains { warning in
            warning.contains("package-0") && warning.contains("stopped moving")
        }
        #expect(warned, "\(window.warnings)")
        // The reading itself (0 J) is what the counter said; the window says it cannot be trusted.
        #expect(window.basisJoules == 0)
        #expect(window.untrusted && window.untrustedReasons == ["package-0: stale-at-end"])
        // Ten intervals of 50 ms make the threshold 0.5 s: the same 0.3 s standstill is not yet stale.
        let slow = try EnergyMeter(
            plan: try #require(try inventory.plan(for: .auto)),
            configuration: MeterConfiguration(intervalSeconds: 0.05, staleAfterSeconds: 0.2))
        let (calm, _) = sampledWindow(slow, seconds: 0.3)
        #expect(!calm.untrusted && calm.channels.allSatisfy { !$0.stale })
    }

    @Test func aCounterThatFreezesThenJumpsBackToTheTruthMakesTheWindowUntrustedWithTheSpan() throws {
        // The simulated AMD tree of issue 11: 90 W, a 120 J range (wrap-safe 120 ms at 1000 W, so the
        // sampler runs every 30 ms), counters frozen from 0.3 s to 0.8 s into the window, then back to the truth.
        let sysfs = FakeSysfs()
        let value = SharedValue(0)
        let range: UInt64 = 120_000_000
        sysfs.set("/pc/intel-rapl:0/name", text: "package-0\n")
        sysfs.set("/pc/intel-rapl:0/max_energy_range_uj", text: "\(range)\n")
        sysfs.set("/pc/intel-rapl:0/energy_uj", .shared(value))
        let stop = SharedValue(0)
        let frozen = SharedValue(0)
        let origin = MonotonicClock.nanoseconds()
        let writer = Thread {
            while stop.value == 0 {
                if frozen.value == 0 {
                    let joules = 90 * Double(MonotonicClock.nanoseconds() - origin) / 1e9
                    value.set(UInt64(joules * 1e6) % range)
                }
                usleep(1000)
            }
        }
        writer.start()
        defer { stop.set(1) }
        usleep(5000)
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/pc", sysfs: sysfs))
        let meter = try EnergyMeter(plan: try #require(try inventory.plan(for: .auto)))
        #expect(abs(meter.intervalSeconds - 0.03) < 1e-9)
        meter.start()
        defer { meter.stop() }
        let mark = meter.beginWindow()
        usleep(300_000)
        frozen.set(1)
        usleep(500_000)
        frozen.set(0)
        usleep(300_000)
        let window = meter.endWindow(mark)
        #expect(window.untrusted)
        #expect(window.untrustedReasons == ["package-0: stalled-hiding-wraps"])
        let package = try #require(window.channels.first)
        let span = try #require(package.spans.first { $0.kind == .stalledHidingWraps }, "\(package.spans)")
        // The standstill began at the freeze and ended at the first reading after it (within a sampling interval or two).
        #expect(abs(span.startSeconds - 0.3) < 0.1 && abs(span.endSeconds - 0.8) < 0.1, "\(span)")
        #expect(window.warnings.contains { $0.contains("UNTRUSTED") && $0.contains("package-0") })
    }

    @Test func aBasisCounterThatFailsMidRunMakesTheBasisUnavailableNotZero() throws {
        let sysfs = serverTree()
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/pc", sysfs: sysfs))
        let meter = try EnergyMeter(plan: try #require(try inventory.plan(for: .auto)))
        let mark = meter.beginWindow()
        sysfs.set("/pc/intel-rapl:0:0/energy_uj", .failing(.ioError))
        let window = meter.endWindow(mark)
        #expect(window.basisJoules == nil)
        #expect(window.averageWatts == nil)
        #expect(window.unavailableReason?.contains("dram") == true)
        #expect(window.unavailableReason?.contains("EIO") == true)
        let dram = try #require(window.channels.first { $0.channel.name == "dram" })
        #expect(dram.energyJoules == nil && dram.endRaw == nil)
        // The package still reads.
        #expect(window.channels.first { $0.channel.name == "package-0" }?.energyJoules != nil)
    }

    @Test func samplingIntervalIsAQuarterOfTheShortestWrapTime() throws {
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: Fixtures.path("powercap/amd-zen")))
        let plan = try #require(try inventory.plan(for: .auto))
        // 65.5 kJ at 1000 W wraps in 65.5 s: 100 ms is already far below a quarter of that.
        #expect(try EnergyMeter(plan: plan).intervalSeconds == 0.1)
        // At a 1 MW ceiling the wrap time is 65.5 ms, so the interval drops to 16.4 ms.
        let fast = try EnergyMeter(
            plan: plan, configuration: MeterConfiguration(intervalSeconds: 0.1, ceilingWatts: 1_000_000))
        #expect(abs(fast.intervalSeconds - 0.065_532_610_987 / 4) < 1e-9)
    }

    @Test func idleBaselineIsTheMedianOfItsWindows() throws {
        let sysfs = serverTree()
        let inventory = try EnergyInventory.discover(.fake(powercapRoot: "/pc", sysfs: sysfs))
        let meter = try EnergyMeter(
            plan: try #require(try inventory.plan(for: .auto)),
            configuration: MeterConfiguration(intervalSeconds: 0.1, ceilingWatts: 60))
        meter.start()
        let idle = try #require(IdleBaseline.measure(with: meter, seconds: 0.6, windowSeconds: 0.2))
        meter.stop()
        #expect(idle.windowWatts.count == 3)
        #expect(relativeError(idle.medianWatts, 35) < Tolerance.knownPower)
        #expect(relativeError(try #require(idle.channelMedianWatts["rapl:intel-rapl:0:1"]), 20) < Tolerance.knownPower)
    }
}
