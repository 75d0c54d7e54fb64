/// A setting given to a session (a suite name, a model id) that is not one it can take. The command
/// line reports it as a usage error of the command that passed the setting on.
public struct SettingError: Error, Sendable, CustomStringConvertible {
    /// What the setting is called where the user gave it, e.g. `--suite`.
    public var setting: String
    /// What is wrong and what it takes.
    public var message: String

    public var description: String { message }
}
