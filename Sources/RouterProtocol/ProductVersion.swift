/// The version of Domain Router that routerd, routerctl and the libraries are built from: one
/// number for the whole product, printed by `--version` and sent in routerd's greeting.
public enum ProductVersion {
    /// `MAJOR.MINOR.PATCH`.
    public static let current = "0.3.0"
}
