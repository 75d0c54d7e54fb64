import Testing

/// Named tolerances for comparing computed values with exact ones (STYLE: never a bare literal).
enum Tolerance {
    /// Arithmetic that should be exact up to rounding (sums, ratios of a few terms).
    static let rounding = 1e-12
    /// Published interval endpoints quoted to 6 digits.
    static let sixDigits = 1e-5
}

/// Whether `actual` is within `tolerance` of `expected`: absolute for |expected| ≤ 1, relative above.
func isClose(_ actual: Double, _ expected: Double, within tolerance: Double = Tolerance.rounding) -> Bool {
    abs(actual - expected) <= tolerance * max(1, abs(expected))
}

/// Expects `actual` within `tolerance` of `expected`, printing both values and their difference when not.
func expectClose(
    _ actual: Double, _ expected: Double, within tolerance: Double = Tolerance.rounding, _ what: String = "",
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(
        isClose(actual, expected, within: tolerance),
        "\(what.isEmpty ? "" : what + ": ")\(actual) vs \(expected) (difference \(actual - expected), tolerance \(tolerance))",
        sourceLocation: sourceLocation)
}
