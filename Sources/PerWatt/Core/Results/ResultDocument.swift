/// A file that `perwatt report` and `perwatt compare` take: a run result, or a fixture that
/// `perwatt eval` measured. Each file is read and parsed once, and told apart by its `schema`.
package enum ResultDocument {
    case run(RunResult)
    case eval(LoadedFixture)

    /// - Parameter withoutEval: what to say (after "eval: is missing: ") of a fixture with no `eval`
    ///   section, which has accuracy but no measurement to report or compare.
    package static func load(_ path: String, withoutEval: String) throws -> ResultDocument {
        let text = try InputFile.read(path)
        let json = try InputFile.json(text, file: path)
        guard json["schema"]?.stringValue == "perwatt.fixture/1" else {
            return .run(try RunResult.decode(json: json, file: path))
        }
        let fixture = try Fixture.decode(json: json, file: path)
        guard fixture.eval != nil else {
            throw InputError(file: path, field: "eval", message: "is missing: \(withoutEval)")
        }
        return .eval(LoadedFixture(fixture: fixture, origin: path, sha256: SHA256.hex(text)))
    }
}
