import Testing

@testable import PerWattCLI
@testable import PerWattCore

/// Every command's help comes from its declarations: each declared option appears in `perwatt help X`
/// and in `X --help`, and no string interpolation survives unexpanded.
struct HelpTests {
    @Test(arguments: CommandRegistry.names)
    func everyDeclaredOptionIsInTheHelp(command: String) throws {
        let entry = try #require(CommandRegistry.named(command))
        let viaHelp = CLIHarness.run(["help", command])
        let viaFlag = CLIHarness.run([command, "--help"])
        #expect(viaHelp.status == .success && viaFlag.status == .success)
        #expect(viaHelp.stdout == viaFlag.stdout)
        #expect(viaHelp.stdout.contains("Usage: perwatt \(command)"), "\(viaHelp.stdout.prefix(200))")
        #expect(!viaHelp.stdout.contains("\\("), "unexpanded interpolation in \(command)'s help")
        #expect(!entry.specs.isEmpty)
        for spec in entry.specs {
            let shown = spec.value.map { "\(spec.name) \($0)" } ?? spec.name
            #expect(
                viaHelp.stdout.contains(shown) && viaHelp.stdout.contains(spec.help),
                "\(command): \(shown) is declared but not in its help")
        }
        let names = entry.specs.map(\.name)
        #expect(Set(names).count == names.count, "\(command) declares an option twice")
    }

    @Test func everyCommandIsListedInTheMainHelp() {
        let main = CLIHarness.run(["help"]).stdout
        for entry in CommandRegistry.all {
            #expect(
                main.contains("  \(entry.name.padding(toLength: 10, withPad: " ", startingAt: 0))\(entry.summary)"),
                "\(entry.name)")
        }
    }

    @Test func optionListingIsOneLinePerDeclaredOption() throws {
        let result = CLIHarness.run(["help", "--options", "run"])
        #expect(result.status == .success)
        let lines = result.stdout.split(separator: "\n").map {
            $0.split(separator: "\t", omittingEmptySubsequences: false)
        }
        #expect(lines.map { String($0[0]) } == RunCommand.specs.map(\.name))
        #expect(lines.contains { $0[0] == "--repetitions" && $0[1] == "N" })
        #expect(CLIHarness.run(["help", "--options", "nope"]).status == .usage)
    }

    @Test func aTypedOptionRefusesWhatItCannotTake() {
        let result = CLIHarness.run(["kernels", "--threads", "0"])
        #expect(result.status == .usage)
        #expect(result.stderr.contains("--threads takes a whole number from 1 to 1024, not '0'"), "\(result.stderr)")
        let number = CLIHarness.run(["exec", "--interval", "nan", "--", "true"])
        #expect(
            number.stderr.contains("--interval takes a number of milliseconds from 1 to 60000, not 'nan'"),
            "\(number.stderr)")
    }
}
