import PerWattCore

extension CLIContext {
    /// Writes `text` to `path` (see `OutputFile`), or to stdout when `path` is nil. Returns nil on success, or
    /// the I/O exit status after saying what failed.
    func emit(_ text: String, to path: String?, command: String) -> ExitCode? {
        guard let path else {
            stdout.write(text)
            return nil
        }
        do {
            try OutputFile.write(text, to: path)
            return nil
        } catch {
            stderr.line("perwatt \(command): \(error)")
            return .ioError
        }
    }
}
