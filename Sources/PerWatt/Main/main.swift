import Foundation
import PerWattCLI

let status = PerWattCLI.run(
    Array(CommandLine.arguments.dropFirst()),
    context: .live(environment: ProcessInfo.processInfo.environment))
exit(status.rawValue)
