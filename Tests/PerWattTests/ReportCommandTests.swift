import Foundation
import PowerProbe
import ProbeTestSupport
import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// Chromium, where installed (CI installs it): the HTML report is rendered in a real browser.
let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
    .first { FileManager.default.isExecutableFile(atPath: $0) }

@Suite(.serialized) struct ReportCommandTests {
    /// A real run of a tiny model on a fake 50 W package, with machine limits, so every plot has data.
    static let measured: String = {
        let model = RunCommandTests.temporary("tiny.json")
        try? String(decoding: try! JSONEncoder().encode(tinyModel), as: UTF8.self).write(
            toFile: model, atomically: true, encoding: .utf8)
        let fixture = RunCommandTests.temporary("fixture.json")
        try? """
        {"schema": "perwatt.fixture/1", "benchmark": "toy", "model": "tiny", "quantization": "q4_0", "source": "test",
         "aggregate": {"accuracy": 0.6, "n": 500}}
        """.write(toFile: fixture, atomically: true, encoding: .utf8)
        let out = RunCommandTests.temporary("measured.json")
        _ = CLIHarness.run(
            [
                "run", "--model", model, "--quantization", "q4_0,q8_0", "--fixture", fixture, "--out", out,
                "--min-time", "0.05",
                "--repetitions", "3", "--idle", "0.3", "--powercap-root", "/pc", "--interval", "10",
            ], sysfs: RunCommandTests.fiftyWatts())
        return out
    }()

    @Test func htmlHasEveryPlotAndNoScript() throws {
        let result = CLIHarness.run(["report", Self.measured, "--format", "html"])
        #expect(result.status == .success, "\(result.stderr)")
        let html = result.stdout
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        // Self-contained: no scripts, no external resources (the only URL is the SVG namespace).
        #expect(!html.contains("<script") && !html.contains("src=") && !html.contains("href="))
        for title in [
            "Accuracy vs energy per query", ">IPJ<", ">IPW<", "Power over the run (rapl:package)",
            "Roofline (f32 FMA peak 100 GFLOP/s, triad 20.0 GB/s)",
        ] {
            #expect(html.contains(title), "missing \(title)")
        }
        #expect(html.components(separatedBy: "<svg").count - 1 == 5)
        #expect(html.contains("idle 50.0 W") && html.contains("rapl:package (energy-counter)"))
        // Without energy the plots that need it say why instead of drawing zeros.
        let none = RunCommandTests.temporary("none.json")
        var result2 = try RunResult.load(Self.measured)
        result2.energy = .init(unavailableReason: "no energy source found")
        result2.scores = result2.scores.map {
            var s = $0
            s.joulesPerQuery = nil
            s.ipj = nil
            s.ipw = nil
            s.wattsPerQuery = nil
            return s
        }
        try JSON.encode(result2).write(toFile: none, atomically: true, encoding: .utf8)
        let plain = CLIHarness.run(["report", none, "--format", "html"]).stdout
        #expect(plain.contains("Accuracy vs time per query (no energy source)"))
        #expect(plain.contains("IPJ and IPW: absent, there is no energy measurement (no energy source found)."))
        #expect(plain.contains("Power trace: none (no energy source found)."))
    }

    @Test func textColourMarksIncompleteRunsAndWarningsOnlyWhenAsked() throws {
        var result = try RunResult.load(Self.measured)
        result.complete = false
        result.incompleteReason = "interrupted (Ctrl-C): 1 of 2 workloads finished"
        result.warnings = ["idle drifted"]
        let path = RunCommandTests.temporary("incomplete.json")
        try JSON.encode(result).write(toFile: path, atomically: true, encoding: .utf8)
        let plain = CLIHarness.run(["report", path])
        #expect(plain.status == .success && !plain.stdout.contains("\u{1B}["))
        #expect(plain.stdout.contains("INCOMPLETE: interrupted") && plain.stdout.contains("warning: idle drifted"))
        let colored = CLIHarness.run(["report", path, "--color", "always"]).stdout
        #expect(
            colored.contains("\u{1B}[1;31mINCOMPLETE:\u{1B}[0m interrupted")
                && colored.contains("\u{1B}[33mwarning:\u{1B}[0m idle drifted"))
        // Colour only adds codes: without them the text is the same, words included.
        #expect(
            colored.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression) == plain.stdout
        )
        #expect(
            CLIHarness.run(["report", path, "--color", "always", "--format", "markdown"]).stdout.contains("\u{1B}[")
                == false)
        #expect(CLIHarness.run(["report", path, "--color", "often"]).status == .usage)
        for (environment, expectColour) in [([String: String](), true), (["NO_COLOR": "1"], false)] {
            var (context, stdout, _) = CLIHarness.context(environment: environment)
            let terminal = CapturedSink(isTerminal: true)
            context.stdout = terminal
            _ = stdout
            #expect(PerWattCLI.run(["report", path], context: context) == .success)
            #expect(terminal.text.contains("\u{1B}[") == expectColour, "\(environment)")
        }
    }

    @Test func textMarkdownJsonAndCsvParseBack() throws {
        #expect(CLIHarness.run(["report", Self.measured]).stdout.contains("Ranked by IPJ"))
        let markdown = CLIHarness.run(["report", Self.measured, "--format", "markdown"]).stdout
        #expect(
            markdown.contains("| model | quant | benchmark |") && markdown.contains("| tiny | q4_0 | toy | 0.600 |"))
        let json = try JSONSerialization.jsonObject(
            with: Data(CLIHarness.run(["report", Self.measured, Self.measured, "--format", "json"]).stdout.utf8))
        #expect(
            (json as? [[String: Any]])?.count == 2
                && (json as? [[String: Any]])?.first?["schema"] as? String == "perwatt.result/2")
        let csv = CLIHarness.run(["report", Self.measured, "--format", "csv"]).stdout.split(separator: "\n")
        #expect(csv[0] == "result,suite,model,quantization,benchmark,metric,unit,value,low,high,energy_basis")
        let ipj = try #require(csv.first { $0.contains(",ipj,1/J,") })
        #expect(ipj.split(separator: ",").count == 11 && ipj.hasSuffix(",rapl:package"))
        #expect(CLIHarness.run(["report"]).status == .usage)
        #expect(CLIHarness.run(["report", Self.measured, "--format", "pdf"]).status == .usage)
    }

    /// Renders the page in headless Chromium and checks the screenshot is far from blank: a blank
    /// page rendered the same way compresses to about 11 kB at this size; the report's plots and
    /// tables to 100 kB or more.
    @Test(.enabled(if: chromium != nil, "Chromium is not installed (CI installs it)"))
    func htmlRendersInChromium() throws {
        let html = RunCommandTests.temporary("report.html")
        #expect(CLIHarness.run(["report", Self.measured, "--format", "html", "--out", html]).status == .success)
        let blank = RunCommandTests.temporary("blank.html")
        try "<!DOCTYPE html><html><body></body></html>".write(toFile: blank, atomically: true, encoding: .utf8)
        func screenshot(_ page: String) throws -> Int {
            let png = page + ".png"
            let process = Process()
            process.executableURL = URL(fileURLWithPath: chromium!)
            process.arguments = [
                "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1400,1800",
                "--screenshot=\(png)", "file://\(page)",
            ]
            process.standardOutput = Pipe()
            process.standardError = Pipe()
            try process.run()
            process.waitUntilExit()
            return (try? FileManager.default.attributesOfItem(atPath: png)[.size] as? Int) ?? 0
        }
        let blankSize = try screenshot(blank)
        let reportSize = try screenshot(html)
        #expect(blankSize > 0 && reportSize > 5 * blankSize, "report \(reportSize) B vs blank \(blankSize) B")
    }
}
