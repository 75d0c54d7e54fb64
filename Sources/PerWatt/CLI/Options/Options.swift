import PerWattCore

/// What `--help` and the parser know of one option: its name, the placeholder of its value (nil for a
/// flag) and one line of help.
struct OptionSpec: Sendable {
    var name: String
    var value: String?
    var help: String
}

/// A declared option, typed or a flag; what an `OptionGroup` is made of.
protocol OptionDeclaration: Sendable {
    var spec: OptionSpec { get }
}

/// A flag: present or not (`--json`).
struct Flag: OptionDeclaration {
    let spec: OptionSpec

    init(_ name: String, help: String) { spec = OptionSpec(name: name, value: nil, help: help) }
}

/// An option with a value of type `Value` (`--threads 4`, `--out=FILE`), converted and checked once,
/// here; a value it cannot take is a usage error that says what it takes.
struct Option<Value>: OptionDeclaration, @unchecked Sendable {
    let spec: OptionSpec
    /// The value, or nil when `text` is not one this option takes.
    let convert: (String) -> Value?
    /// What the option takes, for the error: "a whole number from 1 to 1024".
    let expects: String

    init(_ name: String, _ placeholder: String, help: String, expects: String, convert: @escaping (String) -> Value?) {
        spec = OptionSpec(name: name, value: placeholder, help: help)
        self.expects = expects
        self.convert = convert
    }
}

extension Option where Value == String {
    /// Any text (a path, a name, a URL).
    static func text(_ name: String, _ placeholder: String, help: String) -> Self {
        Self(name, placeholder, help: help, expects: "a value") { $0 }
    }
}

extension Option where Value == Int {
    /// A whole number within `range`.
    static func int(_ name: String, _ placeholder: String, in range: ClosedRange<Int>, help: String) -> Self {
        Self(name, placeholder, help: help, expects: "a whole number from \(range.lowerBound) to \(range.upperBound)") {
            text in
            Int(text).flatMap { range.contains($0) ? $0 : nil }
        }
    }
}

extension Option where Value == Double {
    /// A finite number of `unit` within `range`.
    static func number(_ name: String, _ placeholder: String, in range: ClosedRange<Double>, unit: String, help: String)
        -> Self
    {
        Self(
            name, placeholder, help: help,
            expects: "a number of \(unit) from \(formatNumber(range.lowerBound)) to \(formatNumber(range.upperBound))"
        ) { text in
            Double(text).flatMap { $0.isFinite && range.contains($0) ? $0 : nil }
        }
    }
}

extension Option where Value: RawRepresentable & CaseIterable, Value.RawValue == String {
    /// One of an enumeration's raw values.
    static func choice(_ name: String, help: String) -> Self {
        let names = Value.allCases.map(\.rawValue)
        return Self(name, names.joined(separator: "|"), help: help, expects: names.joined(separator: ", ")) {
            Value(rawValue: $0)
        }
    }
}

/// Options that go together, declared once as the stored properties of a struct: the parser and the
/// help text come from these declarations, in their order (nested groups included), so an option
/// cannot be parsed without being documented, nor read under a misspelt name.
protocol OptionGroup: Sendable {
    init()
}

extension OptionGroup {
    /// Every option of the group, in declaration order, nested groups in place.
    static var specs: [OptionSpec] { declarations(of: Self()) }

    private static func declarations(of value: Any) -> [OptionSpec] {
        Mirror(reflecting: value).children.flatMap { child -> [OptionSpec] in
            if let declaration = child.value as? any OptionDeclaration { return [declaration.spec] }
            if let group = child.value as? any OptionGroup { return declarations(of: group) }
            return []
        }
    }
}

/// `--help`, which every command takes.
struct HelpOption: OptionGroup {
    let help = Flag("--help", help: "show this help")
}

/// Options parsed from a command's arguments, read through their declarations.
struct ParsedOptions {
    /// The command these came from, for usage errors.
    let command: String
    fileprivate var lists: [String: [String]] = [:]
    fileprivate var flags: Set<String> = []
    /// Arguments after `--`, or from the first positional argument on when positionals stop parsing.
    var remainder: [String] = []
    /// Arguments that are not options, in order (commands that take positional operands).
    var positionals: [String] = []

    init(command: String) { self.command = command }

    func has(_ flag: Flag) -> Bool { flags.contains(flag.spec.name) }

    /// The option's last value, converted; nil when it was not given.
    func value<Value>(_ option: Option<Value>) throws -> Value? {
        guard let text = lists[option.spec.name]?.last else { return nil }
        return try convert(text, option)
    }

    /// A text option's last value; nil when it was not given.
    func value(_ option: Option<String>) -> String? { lists[option.spec.name]?.last }

    /// Every value of a repeatable text option, each also split at commas.
    func list(_ option: Option<String>) -> [String] {
        (lists[option.spec.name] ?? []).flatMap {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }

    /// Every value of a repeatable option, each also split at commas (`--model a,b --model c`).
    func list<Value>(_ option: Option<Value>) throws -> [Value] {
        try (lists[option.spec.name] ?? []).flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { try convert(String($0), option) }
    }

    private func convert<Value>(_ text: String, _ option: Option<Value>) throws -> Value {
        guard let value = option.convert(text) else {
            throw UsageError(
                message: "\(option.spec.name) takes \(option.expects), not '\(shown(text))'", command: command)
        }
        return value
    }
}

/// Parses `--name value`, `--name=value` and flags against `specs`. With `stopAtPositional`, the first
/// argument that is not an option ends option parsing (as `--` does) so a command's own options pass
/// through; with `collectPositionals`, such arguments are collected; otherwise they are an error.
func parseOptions(
    _ arguments: [String], specs: [OptionSpec], command: String,
    stopAtPositional: Bool, collectPositionals: Bool = false
) throws -> ParsedOptions {
    var parsed = ParsedOptions(command: command)
    var index = 0
    let byName = Dictionary(specs.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    while index < arguments.count {
        let argument = arguments[index]
        if argument == "--" {
            parsed.remainder = Array(arguments[(index + 1)...])
            return parsed
        }
        guard argument.hasPrefix("-"), argument != "-" else {
            if stopAtPositional {
                parsed.remainder = Array(arguments[index...])
                return parsed
            }
            if collectPositionals {
                parsed.positionals.append(argument)
                index += 1
                continue
            }
            throw UsageError(message: "unexpected argument '\(shown(argument))'", command: command)
        }
        var name = argument
        var inline: String?
        if let equals = argument.firstIndex(of: "=") {
            name = String(argument[..<equals])
            inline = String(argument[argument.index(after: equals)...])
        }
        guard let spec = byName[name] else {
            let known = specs.map(\.name).filter { $0.hasPrefix(String(name.prefix(4))) }
            let hint = known.isEmpty ? "" : " (did you mean \(known.joined(separator: " or "))?)"
            throw UsageError(message: "unknown option '\(shown(name))'\(hint)", command: command)
        }
        if let placeholder = spec.value {
            let value: String
            if let inline {
                value = inline
            } else {
                guard index + 1 < arguments.count else {
                    throw UsageError(message: "\(name) needs a value (\(placeholder))", command: command)
                }
                index += 1
                value = arguments[index]
            }
            parsed.lists[name, default: []].append(value)
        } else {
            guard inline == nil else { throw UsageError(message: "\(name) takes no value", command: command) }
            parsed.flags.insert(name)
        }
        index += 1
    }
    return parsed
}
