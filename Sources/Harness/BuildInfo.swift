/// Which bip made a result: its version and the commit it was built from.
public enum BuildInfo {
    public static let version = "0.1.0"

    /// The git commit of the sources this binary was built from, written at build time by the
    /// `BuildCommit` plugin (`Plugins/BuildCommit`); nil when built outside a git checkout.
    /// Changes not yet committed when it was built are not marked.
    public static let commit: String? = buildCommit

    /// What `bip --version` prints: the version and the commit.
    public static var versionLine: String { "bip \(version), commit \(commit ?? "unknown")" }
}
