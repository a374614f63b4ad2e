import CBuildInfo

/// What `--version`, `/metrics` (`gateway_build_info`) and `/readyz` say this binary is.
public enum BuildInfo {
    /// The release this source tree is; bumped with each release.
    public static let version = "0.20.0"
    /// The git commit the binary was built from, or "unknown" (only scripts/release stamps it).
    public static let commit = String(cString: gateway_build_commit())
}
