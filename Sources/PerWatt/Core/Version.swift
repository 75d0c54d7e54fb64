/// perwatt's release, recorded in results, fixtures and reports.
public enum PerWattRelease {
    /// The version string, e.g. in `perwatt version` and every result's `perwattVersion`.
    public static let version = "0.1.0"
}
